//! Assembling and running the Pingora server: the proxy service on the proxy listener, the
//! admin app (metrics, health) on its own listener, and the built-in mock when the config
//! asks for it. Pingora owns the signals: SIGTERM drains gracefully, SIGINT stops fast.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

use pingora_core::connectors::http::Connector;
use pingora_core::connectors::ConnectorOptions;
use pingora_core::listeners::tls::TlsSettings;
use pingora_core::server::configuration::{Opt, ServerConf};
use pingora_core::server::{RunArgs, Server};
use pingora_core::services::background::background_service;
use pingora_core::services::listening::Service;

use crate::admin::{AdminApp, Readiness};
use crate::config::{Config, Upstream};
use crate::ledger::Ledger;
use crate::limits::Limiter;
use crate::listener_tls::ReloadableCert;
use crate::models::{Discovered, DiscoveryService};
use crate::proxy::state::GatewayState;
use crate::proxy::Gateway;
use crate::reload::{self, Reloader};
use crate::shutdown::DrainingShutdown;

/// Why the server could not start.
#[derive(Debug)]
pub struct StartError(pub String);

/// Whether any enabled provider is the in-process mock.
pub fn needs_builtin_mock(config: &Config) -> bool {
    config
        .providers
        .iter()
        .any(|p| p.upstream == Upstream::BuiltinMock)
}

/// A built server and how it shuts down.
pub struct Built {
    pub server: Server,
    pub shutdown: DrainingShutdown,
    pub ledger: Arc<Ledger>,
}

impl Built {
    /// Serves until a signal ends the process, then writes the usage records still queued.
    pub fn run(self) {
        let ledger = self.ledger.clone();
        self.server.run(RunArgs {
            shutdown_signal: Box::new(self.shutdown),
        });
        ledger.flush(Some(crate::shutdown::LEDGER_FLUSH_WAIT));
    }
}

/// Builds the server for `config`.
pub fn build(
    config: Config,
    config_path: Option<PathBuf>,
    upgrade: bool,
) -> Result<Built, StartError> {
    let mock_addr = if needs_builtin_mock(&config) {
        let addr = crate::mock::spawn_background(
            ([127, 0, 0, 1], 0).into(),
            crate::mock::MockOptions::default(),
        )
        .map_err(|e| StartError(format!("could not start the built-in mock provider: {e}")))?;
        Some(addr)
    } else {
        None
    };
    let ledger = Arc::new(Ledger::start(&config.usage, &config.request_log).map_err(StartError)?);
    let readiness = Arc::new(Readiness::default());
    let settings = config.server.clone();
    let listen = config.listen.clone();
    let limiter = Arc::new(
        Limiter::with_spend(config.shared_state.as_ref(), ledger.clone()).map_err(StartError)?,
    );
    let proxy_cert = listen
        .proxy_tls
        .as_ref()
        .map(|tls| Arc::new(ReloadableCert::new(tls.certified.clone())));
    let state = Arc::new(ArcSwap::from_pointee(
        GatewayState::new(config, mock_addr).map_err(|e| StartError(e.0))?,
    ));
    let keys = crate::keys::spawn(&state.load().config.usage.store.clone(), state.clone())
        .map_err(StartError)?;
    let discovered = Arc::new(Discovered::default());
    let reloader = Arc::new(Reloader {
        path: config_path,
        current: state.clone(),
        mock_addr,
        readiness: readiness.clone(),
        proxy_cert: proxy_cert.clone(),
        ledger: ledger.clone(),
        discovered: discovered.clone(),
    });
    reload::spawn_sighup_watcher(reloader)
        .map_err(|e| StartError(format!("cannot start the reload watcher: {e}")))?;

    let conf = ServerConf {
        threads: settings.threads,
        // Pingora's grace period is the window open requests get after the listeners close
        // (shutdown.rs ends the process early once they are done); runtime teardown after it is quick.
        grace_period_seconds: Some(settings.grace_period_seconds),
        graceful_shutdown_timeout_seconds: Some(1),
        upstream_keepalive_pool_size: settings.upstream_keepalive_pool_size,
        // Attempts are bounded per request in the context (targets + dead pooled connections).
        max_retries: 16,
        upgrade_sock: settings.upgrade_sock.clone(),
        ca_file: settings.ca_file.clone(),
        ..ServerConf::default()
    };
    // With `upgrade`, the listening sockets are received from the running process over
    // `upgrade_sock` (it hands them over on SIGQUIT) instead of being bound anew.
    let opt = Opt {
        upgrade,
        ..Opt::default()
    };
    let mut server = Server::new_with_opt_and_conf(opt, conf);
    server.bootstrap();
    let conf = server.configuration.clone();

    let gateway = Gateway::new(
        state.clone(),
        readiness.clone(),
        ledger.clone(),
        discovered.clone(),
        limiter,
        keys.clone(),
    );
    let mut proxy = pingora_proxy::http_proxy_service_with_name(&conf, gateway, "switchyard proxy");
    match proxy_cert {
        None => proxy.add_tcp(&listen.proxy),
        Some(cert) => {
            let mut tls = TlsSettings::intermediate("", "")
                .map_err(|e| StartError(format!("listen.proxy_tls: {e}")))?;
            tls.set_cert_resolver(cert);
            proxy.add_tls_with_settings(&listen.proxy, None, tls);
        }
    }
    server.add_service(proxy);

    // The one owner of model discovery: stopped by the server's shutdown signal like every service.
    let connector = Connector::new(Some(ConnectorOptions::from_server_conf(&conf)));
    server.add_service(background_service(
        "model discovery",
        DiscoveryService::new(state.clone(), discovered, connector),
    ));

    let mut admin = Service::new(
        "switchyard admin".to_string(),
        AdminApp {
            readiness: readiness.clone(),
            state: state.clone(),
            ledger: ledger.clone(),
            keys,
        },
    );
    admin.add_tcp(&listen.admin);
    server.add_service(admin);

    readiness.set_ready(true);
    let shutdown = DrainingShutdown {
        readiness,
        drain_delay: std::time::Duration::from_secs(settings.drain_delay_seconds),
        ledger: ledger.clone(),
    };
    Ok(Built {
        server,
        shutdown,
        ledger,
    })
}
