//! The keys a request is checked against: the YAML team keys of the running config, then the
//! store's person keys, held in memory as a `HashMap` from SHA-256 digest to key and swapped whole
//! (ArcSwap) by the key thread. A lookup is one hash of the presented key and one map probe, however
//! many person keys there are; its timing depends only on the digest, which reveals nothing usable
//! about a key (SHA-256 is preimage-resistant). No lookup touches the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::mpsc;

use super::store::ActiveKey;
use super::sync::Command;
use crate::auth::{digest, Team, TeamKey, Teams};
use crate::config::Config;
use crate::limits::{Scope, ScopeKind};

/// One person key as a request sees it.
#[derive(Debug)]
pub struct PersonKey {
    /// Its team, its name (the ledger's key id) and its own limits.
    pub key: TeamKey,
    pub expires_ms: Option<i64>,
    /// Set by a request that used it; cleared by the key thread when it writes `last_used_ms`.
    /// Shared with the entry that replaces it on a reload, so a use is never lost to a swap.
    pub(super) used: Arc<AtomicBool>,
}

/// Every person key that opens the gateway (not revoked), by digest.
#[derive(Debug, Default)]
pub struct KeyIndex {
    by_digest: HashMap<[u8; 32], PersonKey>,
}

impl KeyIndex {
    /// The index of `rows` for `config`'s teams. A key of a team the config no longer has, or named
    /// like a YAML key, is left out (and logged): it cannot be placed, or would be mistaken for another.
    pub fn build(rows: Vec<ActiveKey>, config: &Config, previous: &KeyIndex) -> KeyIndex {
        let teams: HashMap<String, Arc<Team>> = config
            .teams
            .all()
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect();
        let mut by_digest = HashMap::with_capacity(rows.len());
        for ActiveKey { row, digest } in rows {
            let Some(team) = teams.get(&row.team) else {
                log::warn!("key `{}`: its team `{}` is not in {}: the key is refused until the team is back", row.name, row.team, config.source);
                continue;
            };
            if config.teams.has_key_id(&row.name) {
                log::warn!("key `{}`: a team key in {} has the same name: the stored key is refused (rename one of them)", row.name, config.source);
                continue;
            }
            let used = previous
                .by_digest
                .get(&digest)
                .map_or_else(|| Arc::new(AtomicBool::new(false)), |p| p.used.clone());
            let limits = Scope::new(
                ScopeKind::Key,
                &row.name,
                &team.name,
                row.limits.limit_set(team.limits.as_ref().map(|s| s.limits.budget_warn_ppm)),
            );
            let key = TeamKey {
                team: team.clone(),
                id: Arc::from(row.name.as_str()),
                limits,
            };
            by_digest.insert(
                digest,
                PersonKey {
                    key,
                    expires_ms: row.expires_ms,
                    used,
                },
            );
        }
        KeyIndex { by_digest }
    }

    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    #[cfg(test)]
    pub(super) fn by_digest_for_tests(&self, digest: &[u8; 32]) -> &PersonKey {
        &self.by_digest[digest]
    }

    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }

    /// The names of keys used since their use was last taken, each flag cleared as it is taken.
    pub(super) fn take_used(&self, due: impl Fn(&str) -> bool) -> Vec<String> {
        self.by_digest
            .values()
            .filter(|p| p.used.load(Ordering::Relaxed) && due(&p.key.id))
            .filter(|p| p.used.swap(false, Ordering::Relaxed))
            .map(|p| p.key.id.to_string())
            .collect()
    }
}

/// Why a presented key opens nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Unknown, revoked, or not sent: the same answer for each, so a revoked key looks unknown.
    Unknown,
    Expired {
        name: String,
        at_ms: i64,
    },
}

impl From<Refused> for crate::errors::GatewayError {
    fn from(refused: Refused) -> Self {
        use crate::errors::{ErrorKind, GatewayError};
        match refused {
            Refused::Unknown => GatewayError::new(
                ErrorKind::Unauthenticated,
                "missing or unknown team key: send your switchyard team key as `x-api-key` or `Authorization: Bearer` (ANTHROPIC_API_KEY / OPENAI_API_KEY in SDKs)",
            ),
            Refused::Expired { name, at_ms } => GatewayError::new(ErrorKind::Unauthenticated, super::expired_message(&name, at_ms)),
        }
    }
}

/// The person keys of this process: the index requests read, and the way to the key thread that
/// fills it (absent when the config keeps no store).
pub struct PersonKeys {
    pub(super) index: ArcSwap<KeyIndex>,
    pub(super) commands: Option<mpsc::UnboundedSender<Command>>,
    /// The config the gateway started with, for the "keys need a store" message.
    pub(super) source: String,
}

impl PersonKeys {
    /// No store: YAML keys only, and every key command says a store is needed.
    pub fn without_store(source: &str) -> PersonKeys {
        PersonKeys {
            index: ArcSwap::from_pointee(KeyIndex::default()),
            commands: None,
            source: source.to_string(),
        }
    }

    /// The key `presented` is: a YAML team key of `teams`, else a person key. An expired person key
    /// is refused with when it expired; using a person key marks it used (a flag, no I/O).
    pub fn authenticate(
        &self,
        teams: &Teams,
        presented: &str,
        now_ms: impl FnOnce() -> i64,
    ) -> Result<TeamKey, Refused> {
        let wanted = digest(presented);
        if let Some(key) = teams.find_digest(&wanted) {
            return Ok(key.clone());
        }
        let index = self.index.load();
        let person = index.by_digest.get(&wanted).ok_or(Refused::Unknown)?;
        if let Some(at_ms) = person.expires_ms.filter(|&at| at <= now_ms()) {
            return Err(Refused::Expired {
                name: person.key.id.to_string(),
                at_ms,
            });
        }
        if !person.used.load(Ordering::Relaxed) {
            person.used.store(true, Ordering::Relaxed);
        }
        Ok(person.key.clone())
    }

    /// Puts `index` in force for every request from now on.
    pub fn swap(&self, index: KeyIndex) {
        self.index.store(Arc::new(index));
    }

    /// How many person keys are in force.
    pub fn len(&self) -> usize {
        self.index.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
