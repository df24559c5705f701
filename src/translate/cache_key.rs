//! OpenAI's `prompt_cache_key` for a translated conversation. OpenAI routes requests that share a key to
//! the same cache, so every turn of one Claude Code session should carry the same key, and different
//! sessions different ones. The key is derived from the conversation identity the gateway already keeps
//! for key affinity (`metadata.user_id` — which holds Claude Code's session id — with the start of the
//! system prompt, or else the `X-Claude-Code-Session-Id` header): hashed, so no user or device id ever
//! leaves in the clear, and salted, so it cannot be matched against other hashes of the same id.

use super::ids::derive;

/// `sy-` and 24 hex digits, or `None` for a request with no conversation identity.
pub fn prompt_cache_key(identity: &[u8]) -> Option<String> {
    if identity.is_empty() {
        return None;
    }
    let mut seed = b"switchyard prompt_cache_key\0".to_vec();
    seed.extend_from_slice(identity);
    Some(derive("sy-", &seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_conversation_and_nothing_of_the_identity_in_it() {
        let a = prompt_cache_key(br#""{\"session_id\":\"6297ca5a\"}"You are Claude"#).unwrap();
        assert_eq!(
            a,
            prompt_cache_key(br#""{\"session_id\":\"6297ca5a\"}"You are Claude"#).unwrap()
        );
        assert_ne!(
            a,
            prompt_cache_key(br#""{\"session_id\":\"6297ca5b\"}"You are Claude"#).unwrap()
        );
        assert!(
            a.starts_with("sy-") && a.len() == 27 && a[3..].bytes().all(|b| b.is_ascii_hexdigit()),
            "{a}"
        );
        assert!(!a.contains("6297"));
        assert_eq!(prompt_cache_key(b""), None);
    }
}
