//! Who is looking at the cost page: an admin key (`admin.keys`) sees every team; a team key — any key
//! the proxy accepts for a team — sees that team only. The key comes as `x-api-key`,
//! `Authorization: Bearer`, or `Authorization: Basic` with the key as the password (the user name is
//! ignored), because a browser without JavaScript can only send the last.

use base64::Engine as _;
use http::HeaderMap;

use crate::config::Config;
use crate::keys::PersonKeys;

/// Whose numbers a request may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// An admin key: every team.
    Admin,
    /// A team key: this team only.
    Team(String),
}

impl Viewer {
    pub fn sees(&self, team: &str) -> bool {
        match self {
            Viewer::Admin => true,
            Viewer::Team(own) => own == team,
        }
    }
}

/// Why a request gets 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    NoKey,
    UnknownKey,
}

impl Denied {
    pub fn message(self) -> &'static str {
        match self {
            Denied::NoKey => "This page needs a key: an admin key (admin.keys) shows every team, a team key shows its own team. In a browser, enter any user name and the key as the password; from a script, send it as x-api-key or Authorization: Bearer.",
            Denied::UnknownKey => "That key is not an admin key or a team key of this gateway. In a browser, enter any user name and the key as the password.",
        }
    }
}

/// The key presented, in the first of `x-api-key`, `Authorization: Bearer …`, `Authorization: Basic …`.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let non_empty = |k: &str| Some(k.trim().to_string()).filter(|k| !k.is_empty());
    if let Some(key) = crate::auth::presented_key(headers) {
        return non_empty(key);
    }
    let authorization = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, value) = authorization.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (_user, password) = decoded.split_once(':')?;
        return non_empty(password);
    }
    None
}

/// The viewer a request's key makes it, checked against the running config and the person keys in
/// force (an expired or revoked person key opens nothing here either).
pub fn authenticate(headers: &HeaderMap, config: &Config, people: &PersonKeys) -> Result<Viewer, Denied> {
    let key = presented_key(headers).ok_or(Denied::NoKey)?;
    if config.admin_keys.find(&key).is_some() {
        return Ok(Viewer::Admin);
    }
    match people.authenticate(&config.teams, &key, crate::ledger::now_ms) {
        Ok(team_key) => Ok(Viewer::Team(team_key.team.name.clone())),
        Err(_) => Err(Denied::UnknownKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, value.parse().unwrap());
        }
        h
    }

    fn basic(user_password: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_password)
        )
    }

    #[test]
    fn keys_come_from_any_of_three_places() {
        assert_eq!(
            presented_key(&headers(&[("x-api-key", " k1 ")])).as_deref(),
            Some("k1")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer k2")])).as_deref(),
            Some("k2")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "bearer k2")])).as_deref(),
            Some("k2")
        );
        let b = basic("anyone:k:with:colons");
        assert_eq!(
            presented_key(&headers(&[("authorization", &b)])).as_deref(),
            Some("k:with:colons")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", &basic("k3:"))])),
            None,
            "the user name is not the key"
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Basic !!!")])),
            None
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Digest k")])),
            None
        );
        assert_eq!(presented_key(&headers(&[])), None);
    }

    #[test]
    fn a_team_viewer_sees_its_own_team_only() {
        assert!(Viewer::Admin.sees("anything"));
        let v = Viewer::Team("platform".into());
        assert!(v.sees("platform") && !v.sees("research") && !v.sees(""));
    }
}
