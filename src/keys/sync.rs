//! The key thread: one per gateway process, with a runtime of its own (like the usage writer), so
//! nothing it waits for — the store, a slow PostgreSQL — is ever on a request's path.
//!
//! Every second it reads `api_keys_version` (one row); when it moved, or the config was reloaded,
//! it reads the keys that are not revoked and swaps a new index in. Replicas share keys by sharing
//! the store, so a key created or revoked anywhere is in force everywhere within about a second
//! (the guarantee is 5 s). The admin API's commands run here too, against the same store, and the
//! index is rebuilt right after each (this replica sees its own change at once). Last use is
//! written here, at most once a minute per key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use tokio::sync::{mpsc, oneshot};

use super::index::{KeyIndex, PersonKeys};
use super::store::{self, KeyRow};
use super::{KeyError, NewKey};
use crate::config::StoreLocation;
use crate::ledger::now_ms;
use crate::ledger::store::{Open, Store};
use crate::proxy::state::GatewayState;

/// How often each replica checks the store for changed keys.
pub const POLL: Duration = Duration::from_secs(1);
/// A key's last use is written at most this often (per key, per replica).
const LAST_USED_EVERY_MS: i64 = 60_000;
/// How long a start waits for the first load before serving with YAML keys only.
const FIRST_LOAD_WAIT: Duration = Duration::from_secs(3);
/// How long an admin request waits for the key thread.
const COMMAND_WAIT: Duration = Duration::from_secs(15);

/// What the admin API asks of the key thread.
pub(super) enum Command {
    Create(NewKey, [u8; 32], oneshot::Sender<Result<(), KeyError>>),
    List(oneshot::Sender<Result<Vec<KeyRow>, KeyError>>),
    Revoke(String, oneshot::Sender<Result<(), KeyError>>),
}

/// Starts the key thread for `location` (none for `store: none`) and waits briefly for its first load.
pub fn spawn(
    location: &StoreLocation,
    state: Arc<ArcSwap<GatewayState>>,
) -> Result<Arc<PersonKeys>, String> {
    let source = state.load().config.source.clone();
    if *location == StoreLocation::None {
        return Ok(Arc::new(PersonKeys::without_store(&source)));
    }
    let (commands, command_rx) = mpsc::unbounded_channel();
    let keys = Arc::new(PersonKeys {
        commands: Some(commands),
        ..PersonKeys::without_store(&source)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the key thread: {e}"))?;
    let (loaded_tx, loaded_rx) = std::sync::mpsc::channel();
    let worker = Worker {
        location: location.clone(),
        store: None,
        keys: keys.clone(),
        state,
        built: None,
        last_written: HashMap::new(),
        last_error_log: None,
        loaded: Some(loaded_tx),
    };
    std::thread::Builder::new()
        .name("person-keys".into())
        .spawn(move || runtime.block_on(worker.run(command_rx)))
        .map_err(|e| format!("cannot start the key thread: {e}"))?;
    if loaded_rx.recv_timeout(FIRST_LOAD_WAIT).is_err() {
        log::warn!("person keys: the store did not answer within {FIRST_LOAD_WAIT:?}: serving YAML team keys until it does");
    }
    Ok(keys)
}

struct Worker {
    location: StoreLocation,
    store: Option<Store>,
    keys: Arc<PersonKeys>,
    state: Arc<ArcSwap<GatewayState>>,
    /// The store version and config generation the index in force was built from.
    built: Option<(i64, Arc<GatewayState>)>,
    /// When each key's last use was written by this replica (Unix ms).
    last_written: HashMap<String, i64>,
    last_error_log: Option<Instant>,
    loaded: Option<std::sync::mpsc::Sender<()>>,
}

impl Worker {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => return,
                },
                _ = tick.tick() => {
                    self.refresh().await;
                    self.write_last_used().await;
                }
            }
        }
    }

    /// The store, opened (and migrated) on first use and again after it failed to open.
    async fn store(&mut self) -> Result<&Store, KeyError> {
        if self.store.is_none() {
            let opened = match Store::open(&self.location, Open::Create).await {
                Ok(Some(store)) => store.migrate().await.map(|()| store),
                Ok(None) => Err("no store configured".into()),
                Err(e) => Err(e),
            };
            match opened {
                Ok(store) => self.store = Some(store),
                Err(e) => {
                    return Err(KeyError::Store(format!(
                        "the key store {} is unavailable: {e}",
                        self.location.describe()
                    )))
                }
            }
        }
        self.store
            .as_ref()
            .ok_or_else(|| KeyError::Store("the key store is unavailable".into()))
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Create(key, digest, reply) => {
                let result = match self.store().await {
                    Ok(store) => store::insert(store, &key, &digest).await,
                    Err(e) => Err(e),
                };
                self.put_in_force(result.is_ok()).await;
                let _ = reply.send(result);
            }
            Command::List(reply) => {
                let result = match self.store().await {
                    Ok(store) => store::list(store).await,
                    Err(e) => Err(e),
                };
                let _ = reply.send(result);
            }
            Command::Revoke(name, reply) => {
                let result = match self.store().await {
                    Ok(store) => store::revoke(store, &name, now_ms()).await,
                    Err(e) => Err(e),
                };
                self.put_in_force(result.is_ok()).await;
                let _ = reply.send(result);
            }
        }
    }

    /// After a change made here: the new index is in force before the caller hears the change
    /// succeeded, so a key `create` returned opens the very next request on this replica (and a
    /// revoked one is refused by it).
    async fn put_in_force(&mut self, changed: bool) {
        if changed {
            self.built = None;
            self.refresh().await;
        }
    }

    /// Reloads the keys when the store's version or the config moved since the index was built.
    async fn refresh(&mut self) {
        if let Err(e) = self.try_refresh().await {
            self.log_error(&e);
        }
    }

    async fn try_refresh(&mut self) -> Result<(), KeyError> {
        let store = self.store().await?.clone();
        let version = store::version(&store).await?;
        let state = self.state.load_full();
        let current = self
            .built
            .as_ref()
            .is_some_and(|(v, built_for)| *v == version && Arc::ptr_eq(built_for, &state));
        if !current {
            let rows = store::active(&store).await?;
            let index = KeyIndex::build(rows, &state.config, &self.keys.index.load());
            log::debug!(
                "person keys: {} in force (store version {version})",
                index.len()
            );
            self.keys.swap(index);
            self.built = Some((version, state));
        }
        if let Some(loaded) = self.loaded.take() {
            let _ = loaded.send(());
        }
        Ok(())
    }

    /// Writes the last use of keys used since it was last written, at most once a minute per key.
    async fn write_last_used(&mut self) {
        let now = now_ms();
        let names = {
            let last_written = &self.last_written;
            self.keys.index.load().take_used(|name| {
                last_written
                    .get(name)
                    .is_none_or(|&at| now - at >= LAST_USED_EVERY_MS)
            })
        };
        if names.is_empty() {
            return;
        }
        let Some(store) = self.store.clone() else {
            return;
        };
        match store::touch(&store, &names, now).await {
            Ok(()) => {
                for name in names {
                    self.last_written.insert(name, now);
                }
            }
            Err(e) => self.log_error(&e),
        }
    }

    /// At most one log line a minute while the store fails.
    fn log_error(&mut self, e: &KeyError) {
        if self
            .last_error_log
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(60))
        {
            self.last_error_log = Some(Instant::now());
            log::warn!(
                "person keys: {e}; the keys in force stay as they are until the store answers"
            );
        }
    }
}

impl PersonKeys {
    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, KeyError>>) -> Command,
    ) -> Result<T, KeyError> {
        let Some(commands) = &self.commands else {
            return Err(KeyError::NoStore(super::no_store_message(&self.source)));
        };
        let (reply, answer) = oneshot::channel();
        commands
            .send(command(reply))
            .map_err(|_| KeyError::Store("the key thread has stopped".into()))?;
        match tokio::time::timeout(COMMAND_WAIT, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(KeyError::Store("the key thread has stopped".into())),
            Err(_) => Err(KeyError::Store(format!(
                "the key store did not answer within {} s",
                COMMAND_WAIT.as_secs()
            ))),
        }
    }

    /// Stores a validated key under `digest`; in force on this replica when this returns.
    pub async fn create(&self, key: NewKey, digest: [u8; 32]) -> Result<(), KeyError> {
        self.ask(|reply| Command::Create(key, digest, reply)).await
    }

    pub async fn list(&self) -> Result<Vec<KeyRow>, KeyError> {
        self.ask(Command::List).await
    }

    /// Revokes `name`; refused on this replica when this returns.
    pub async fn revoke(&self, name: &str) -> Result<(), KeyError> {
        let name = name.to_string();
        self.ask(|reply| Command::Revoke(name, reply)).await
    }

    /// Whether this gateway keeps keys in a store (`usage.store` is not `none`).
    pub fn has_store(&self) -> bool {
        self.commands.is_some()
    }
}
