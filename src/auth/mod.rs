//! Team keys: who is calling. Keys are held only as SHA-256 digests, so neither a config
//! file nor a memory dump of the matcher holds a usable key, and a presented key is compared
//! against every digest in constant time (no early exit that would time a prefix match).

pub mod credential;

use std::sync::Arc;

use globset::GlobSet;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A team as the proxy needs it.
#[derive(Debug)]
pub struct Team {
    pub name: String,
    /// Public model names this team may use; `None` means all.
    pub allowed_models: Option<GlobSet>,
    pub default_model: Option<String>,
    /// Forward a client's own provider credential instead of the gateway key (explicit opt-in).
    pub credential_passthrough: bool,
    /// The routing rules for this team's requests: the global ones, its own, or none.
    pub rules: Option<Arc<crate::rules::RuleSet>>,
}

impl Team {
    pub fn may_use(&self, model: &str) -> bool {
        self.allowed_models.as_ref().is_none_or(|set| set.is_match(model))
    }
}

#[derive(Debug, Default)]
pub struct Teams {
    keys: Vec<([u8; 32], Arc<Team>)>,
}

pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl Teams {
    pub fn add_key(&mut self, digest: [u8; 32], team: Arc<Team>) {
        self.keys.push((digest, team));
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The team called `name` (for `switchyard route --team`), if it has a key.
    pub fn by_name(&self, name: &str) -> Option<Arc<Team>> {
        self.keys.iter().find(|(_, t)| t.name == name).map(|(_, t)| t.clone())
    }

    /// Every team with a key, in config order, each once.
    pub fn all(&self) -> Vec<Arc<Team>> {
        let mut out: Vec<Arc<Team>> = Vec::new();
        for (_, team) in &self.keys {
            if !out.iter().any(|t| Arc::ptr_eq(t, team)) {
                out.push(team.clone());
            }
        }
        out
    }

    /// The team owning `presented`, checked against every key without short-circuiting.
    pub fn authenticate(&self, presented: &str) -> Option<Arc<Team>> {
        let wanted = digest(presented);
        let mut found: Option<&Arc<Team>> = None;
        for (key, team) in &self.keys {
            let hit: bool = key.ct_eq(&wanted).into();
            if hit && found.is_none() {
                found = Some(team);
            }
        }
        found.cloned()
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
        Arc::new(Team { name: name.into(), allowed_models, default_model: None, credential_passthrough: false, rules: None })
    }

    #[test]
    fn finds_the_owner_of_a_key_and_nothing_else() {
        let mut teams = Teams::default();
        teams.add_key(digest("alpha-key"), team("alpha", None));
        teams.add_key(digest("beta-key"), team("beta", None));
        assert_eq!(teams.authenticate("beta-key").unwrap().name, "beta");
        assert_eq!(teams.authenticate("alpha-key").unwrap().name, "alpha");
        assert!(teams.authenticate("alpha-ke").is_none());
        assert!(teams.authenticate("").is_none());
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
