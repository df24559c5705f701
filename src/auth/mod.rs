//! Team keys: who is calling. Keys are held only as SHA-256 digests, so neither a config
//! file nor a memory dump of the matcher holds a usable key, and a presented key is compared
//! against every digest in constant time (no early exit that would time a prefix match).

pub mod credential;

use std::sync::Arc;

use globset::GlobSet;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::limits::Scope;

/// A team as the proxy needs it.
#[derive(Debug)]
pub struct Team {
    pub name: String,
    /// Public model names this team may use; `None` means all.
    pub allowed_models: Option<GlobSet>,
    pub default_model: Option<String>,
    /// Forward a client's own provider credential instead of the gateway key (explicit opt-in).
    pub credential_passthrough: bool,
    /// The team's rate and concurrency limits (its own over `default_limits`); `None`: it has none.
    pub limits: Option<Arc<Scope>>,
    /// The routing rules for this team's requests: the global ones, its own, or none.
    pub rules: Option<Arc<crate::rules::RuleSet>>,
}

impl Team {
    pub fn may_use(&self, model: &str) -> bool {
        self.allowed_models.as_ref().is_none_or(|set| set.is_match(model))
    }
}

/// Keys held as digests, each with what it opens (a team, or an admin name), matched in constant time.
#[derive(Debug)]
pub struct Keyring<T> {
    keys: Vec<([u8; 32], T)>,
}

impl<T> Default for Keyring<T> {
    fn default() -> Self {
        Keyring { keys: Vec::new() }
    }
}

impl<T> Keyring<T> {
    pub fn add(&mut self, digest: [u8; 32], value: T) {
        self.keys.push((digest, value));
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// What `presented` opens, checked against every key without short-circuiting.
    pub fn find(&self, presented: &str) -> Option<&T> {
        self.find_digest(&digest(presented))
    }

    /// What the key with digest `wanted` opens (for a caller that has the digest already).
    pub fn find_digest(&self, wanted: &[u8; 32]) -> Option<&T> {
        let mut found: Option<&T> = None;
        for (key, value) in &self.keys {
            let hit: bool = key.ct_eq(wanted).into();
            if hit && found.is_none() {
                found = Some(value);
            }
        }
        found
    }

    /// Every value, in the order its key was configured.
    fn values(&self) -> impl Iterator<Item = &T> {
        self.keys.iter().map(|(_, value)| value)
    }
}

/// A team key: its team, its non-secret id (the key's configured `name`, else `sha256:` and the first
/// 8 hex digits of its digest — never the key), which usage records and limits both use, and its own
/// limits.
#[derive(Debug, Clone)]
pub struct TeamKey {
    pub team: Arc<Team>,
    pub id: Arc<str>,
    /// Limits of this key alone, counted on top of its team's; `None`: it has none.
    pub limits: Option<Arc<Scope>>,
}

/// Every team key.
pub type Teams = Keyring<TeamKey>;

/// The key a caller sent: `x-api-key` when present (even empty: it is what the caller chose), else
/// an `Authorization: Bearer` token (the scheme in any case, RFC 7235), trimmed. One reading for the
/// proxy, the admin endpoints and the cost page, so a key that opens one is read the same by all.
pub fn presented_key(headers: &http::HeaderMap) -> Option<&str> {
    match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        Some(key) => Some(key.trim()),
        None => bearer_token(headers),
    }
}

/// The token of an `Authorization: Bearer …` header, trimmed.
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let (scheme, token) = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The id a key is known by in usage records, limits and logs: its configured name, else a digest prefix.
pub fn key_id(name: Option<&str>, digest: &[u8; 32]) -> Arc<str> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => Arc::from(name),
        None => Arc::from(format!("sha256:{}", hex::encode(&digest[..4]))),
    }
}

impl Teams {
    /// The team owning `presented`.
    pub fn authenticate(&self, presented: &str) -> Option<Arc<Team>> {
        self.find(presented).map(|k| k.team.clone())
    }

    /// The team called `name` (for `switchyard route --team`), if it has a key.
    pub fn by_name(&self, name: &str) -> Option<Arc<Team>> {
        self.keys.iter().find(|(_, k)| k.team.name == name).map(|(_, k)| k.team.clone())
    }

    /// Every team with a key, in config order, each once.
    pub fn all(&self) -> Vec<Arc<Team>> {
        let mut out: Vec<Arc<Team>> = Vec::new();
        for (_, key) in &self.keys {
            if !out.iter().any(|t| Arc::ptr_eq(t, &key.team)) {
                out.push(key.team.clone());
            }
        }
        out
    }

    /// Whether a YAML key is known by `id` (a person key may not take its name).
    pub fn has_key_id(&self, id: &str) -> bool {
        self.values().any(|key| &*key.id == id)
    }

    /// Every key entry that has limits of its own.
    pub fn limited_keys(&self) -> impl Iterator<Item = &TeamKey> {
        self.values().filter(|key| key.limits.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(name: &str, allowed: Option<&[&str]>) -> Arc<Team> {
        let allowed_models = allowed.map(|globs| {
            let mut b = globset::GlobSetBuilder::new();
            for g in globs {
                b.add(globset::Glob::new(g).unwrap());
            }
            b.build().unwrap()
        });
        Arc::new(Team { name: name.into(), allowed_models, default_model: None, credential_passthrough: false, limits: None, rules: None })
    }

    #[test]
    fn finds_the_owner_of_a_key_and_nothing_else() {
        let mut teams = Teams::default();
        let entry = |team: Arc<Team>, name: Option<&str>, key: &str| TeamKey { team, id: key_id(name, &digest(key)), limits: None };
        teams.add(digest("alpha-key"), entry(team("alpha", None), Some("laptop"), "alpha-key"));
        teams.add(digest("beta-key"), entry(team("beta", None), None, "beta-key"));
        assert_eq!(teams.authenticate("beta-key").unwrap().name, "beta");
        assert_eq!(teams.authenticate("alpha-key").unwrap().name, "alpha");
        assert!(teams.authenticate("alpha-ke").is_none());
        assert!(teams.authenticate("").is_none());
        assert_eq!(&*teams.find("alpha-key").unwrap().id, "laptop");
        let beta_id = teams.find("beta-key").unwrap().id.clone();
        assert!(beta_id.starts_with("sha256:") && beta_id.len() == 15 && !beta_id.contains("beta"), "{beta_id}");
    }

    #[test]
    fn model_globs_limit_a_team() {
        let t = team("t", Some(&["claude-*", "openrouter/z-ai/*"]));
        assert!(t.may_use("claude-haiku-4-5"));
        assert!(t.may_use("openrouter/z-ai/glm-4.5-air"));
        assert!(!t.may_use("gpt-5"));
        assert!(team("all", None).may_use("anything"));
    }
}
