//! Hot reload: on SIGHUP the config file is read and validated again, a new gateway state is
//! built from it, and only then swapped in atomically. Requests already under way keep the
//! state they started with (each holds an `Arc` of it); an invalid config is refused with a log
//! line and a metric, and the running one stays.
//!
//! Listener addresses and server settings belong to the running Pingora server: changing them
//! needs a restart, and a reload that changes them says so.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::admin::Readiness;
use crate::config::{self, interpolate::Env, Config};
use crate::metrics::Metrics;
use crate::proxy::state::GatewayState;

pub struct Reloader {
    pub path: Option<PathBuf>,
    pub current: Arc<ArcSwap<GatewayState>>,
    pub mock_addr: Option<SocketAddr>,
    pub readiness: Arc<Readiness>,
    /// Flushed on every reload; its store and log are the ones the process started with.
    pub ledger: Arc<crate::ledger::Ledger>,
    /// Told about every new config, so model discovery fetches the new providers' lists at once.
    pub discovered: Arc<crate::models::Discovered>,
}

/// The process environment, plus the team key generated at start so a reload keeps it valid.
struct KeepGeneratedKey {
    name: String,
    value: String,
}

impl Env for KeepGeneratedKey {
    fn var(&self, name: &str) -> Option<String> {
        if name == self.name {
            return Some(self.value.clone());
        }
        std::env::var(name).ok()
    }
}

impl Reloader {
    /// Loads, validates and swaps in the config; on error the running config stays.
    pub fn reload(&self) -> Result<(), String> {
        let result = self.try_reload();
        let label = if result.is_ok() { "ok" } else { "error" };
        Metrics::global().config_reloads.with_label_values(&[label]).inc();
        match &result {
            Ok(()) => log::info!("config reloaded from {}", self.source_name()),
            Err(e) => log::error!("config reload refused, keeping the running config: {e}"),
        }
        result
    }

    fn source_name(&self) -> String {
        self.path.as_ref().map_or_else(|| config::EMBEDDED_NAME.to_string(), |p| p.display().to_string())
    }

    fn try_reload(&self) -> Result<(), String> {
        let old = self.current.load_full();
        let env: Box<dyn Env> = match &old.config.generated_team_key {
            Some(g) => Box::new(KeepGeneratedKey { name: g.env.clone(), value: g.key.expose().to_string() }),
            None => Box::new(config::interpolate::ProcessEnv),
        };
        let new: Config = config::load(self.path.as_deref(), env.as_ref()).map_err(|e| e.to_string())?;
        if new.listen != old.config.listen || new.server != old.config.server {
            log::warn!("listen/server settings changed in {}: they take effect at the next restart", self.source_name());
        }
        if new.usage != old.config.usage || new.request_log != old.config.request_log {
            log::warn!("usage/log settings changed in {}: the store and request log change at the next restart", self.source_name());
        }
        self.ledger.flush(None);
        if crate::server::needs_builtin_mock(&new) && self.mock_addr.is_none() {
            return Err("the new config uses the built-in mock provider, which was not started with this process: restart instead".into());
        }
        let state = GatewayState::new(new, self.mock_addr).map_err(|e| e.0)?;
        self.current.store(Arc::new(state));
        self.discovered.config_changed();
        Ok(())
    }
}

/// Reloads on every SIGHUP, from a thread of its own.
pub fn spawn_sighup_watcher(reloader: Arc<Reloader>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("config-reload".into()).spawn(move || {
        runtime.block_on(async move {
            let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
                Ok(s) => s,
                Err(e) => {
                    log::error!("cannot listen for SIGHUP, hot reload is off: {e}");
                    return;
                }
            };
            while hup.recv().await.is_some() {
                if reloader.readiness.is_ready() {
                    let _ = reloader.reload();
                }
            }
        });
    })?;
    Ok(())
}
