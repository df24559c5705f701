//! Who a request is for, beyond its team: the end user a client names. Claude Code puts its user
//! and session in `metadata.user_id`, OpenAI clients send `user`, and a gateway in front of a tool
//! can set `x-switchyard-user`. The value is the client's, so it is bounded and cleaned before it
//! reaches the ledger and the request log (never a metric label: it is unbounded).

/// Longest end-user id kept, in bytes (Claude Code's `metadata.user_id` is about 140).
pub const MAX_USER_BYTES: usize = 256;

/// `raw` without control characters, cut at [`MAX_USER_BYTES`] on a character boundary; `None`
/// when nothing is left.
pub fn clean_user(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len().min(MAX_USER_BYTES));
    for c in raw.trim().chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > MAX_USER_BYTES {
            break;
        }
        out.push(c);
    }
    (!out.is_empty()).then_some(out)
}

/// The end user of a request: the `x-switchyard-user` header, else Claude Code's
/// `metadata.user_id`, else OpenAI's `user` (the last two as raw JSON values from the body).
pub fn end_user(
    header: Option<&[u8]>,
    metadata: Option<&[u8]>,
    user: Option<&[u8]>,
) -> Option<String> {
    if let Some(h) = header
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(clean_user)
    {
        return Some(h);
    }
    let from_metadata = metadata
        .and_then(|m| serde_json::from_slice::<serde_json::Value>(m).ok())
        .and_then(|m| m.get("user_id")?.as_str().and_then(clean_user));
    from_metadata.or_else(|| {
        user.and_then(|u| serde_json::from_slice::<String>(u).ok())
            .and_then(|u| clean_user(&u))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_bounded_and_cleaned() {
        assert_eq!(clean_user(" ana\u{7}\n "), Some("ana".into()));
        assert_eq!(clean_user("\u{1b}\t"), None);
        let long = "é".repeat(200);
        assert_eq!(clean_user(&long).map(|u| u.len()), Some(256));
    }

    #[test]
    fn header_then_metadata_then_user() {
        let metadata = br#"{"user_id":"user_abc_account__session_1"}"#;
        assert_eq!(
            end_user(Some(b"ops-bot"), Some(metadata), Some(br#""u1""#)),
            Some("ops-bot".into())
        );
        assert_eq!(
            end_user(None, Some(metadata), Some(br#""u1""#)),
            Some("user_abc_account__session_1".into())
        );
        assert_eq!(
            end_user(None, Some(b"{}"), Some(br#""u1""#)),
            Some("u1".into())
        );
        assert_eq!(end_user(None, None, Some(b"42")), None);
    }
}
