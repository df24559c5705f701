//! Shutdown on signals, with a real drain.
//!
//! Pingora's own SIGTERM handling closes the listeners, sleeps `grace_period_seconds` whatever is
//! in flight, then tears the runtimes down — cutting any stream still open, and making an idle
//! gateway wait the full period. This watcher replaces it:
//! 1. SIGTERM: readiness fails at once (`/readyz` → 503), and the gateway keeps serving for
//!    `drain_delay_seconds` so load balancers stop sending;
//! 2. then Pingora is told to terminate gracefully: the listeners close, and its grace period
//!    (set to our `grace_period_seconds`) is the window open requests have to finish;
//! 3. a watchdog ends the process as soon as no request is in flight, so an idle or drained
//!    gateway stops promptly instead of sleeping out the grace period — after the usage ledger
//!    has written every queued record (up to [`LEDGER_FLUSH_WAIT`]).
//!
//! SIGINT stops at once; SIGQUIT is Pingora's graceful upgrade (socket hand-over).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pingora_core::server::{ShutdownSignal, ShutdownSignalWatch};
use tokio::signal::unix::{signal, SignalKind};

use crate::admin::Readiness;
use crate::ledger::Ledger;
use crate::metrics::Metrics;

/// How long shutdown waits for the usage ledger to write what is queued (the store is given up on
/// a little earlier, and what it could not take is counted as dropped).
pub const LEDGER_FLUSH_WAIT: Duration = Duration::from_secs(10);

pub struct DrainingShutdown {
    pub readiness: Arc<Readiness>,
    pub drain_delay: Duration,
    /// Flushed once the drain is over, before the process exits.
    pub ledger: Arc<Ledger>,
}

#[async_trait]
impl ShutdownSignalWatch for DrainingShutdown {
    async fn recv(&self) -> ShutdownSignal {
        let (Ok(mut term), Ok(mut int), Ok(mut quit)) =
            (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::quit()))
        else {
            log::error!("cannot install signal handlers; shutting down");
            return ShutdownSignal::FastShutdown;
        };
        tokio::select! {
            _ = int.recv() => {
                log::info!("SIGINT: stopping now");
                ShutdownSignal::FastShutdown
            }
            _ = quit.recv() => {
                log::info!("SIGQUIT: graceful upgrade, handing the listening sockets over");
                self.readiness.set_ready(false);
                // Pingora keeps accepting beside the new process for 5 s after the hand-over, then
                // closes; only after that can "nothing in flight" mean "done".
                spawn_exit_when_drained(Duration::from_secs(6), self.ledger.clone());
                ShutdownSignal::GracefulUpgrade
            }
            _ = term.recv() => {
                self.readiness.set_ready(false);
                log::info!("SIGTERM: readiness off; serving for {:?} more before closing the listeners", self.drain_delay);
                tokio::select! {
                    _ = tokio::time::sleep(self.drain_delay) => {}
                    _ = int.recv() => return ShutdownSignal::FastShutdown,
                }
                log::info!("closing the listeners; waiting for {} open request(s)", Metrics::global().in_flight.get());
                spawn_exit_when_drained(Duration::ZERO, self.ledger.clone());
                ShutdownSignal::GracefulTerminate
            }
        }
    }
}

/// Ends the process once nothing is in flight (seen twice, 100 ms apart, so a request that was
/// being accepted as the listeners closed gets counted), after writing the queued usage records.
/// Pingora's grace period bounds the wait.
fn spawn_exit_when_drained(after: Duration, ledger: Arc<Ledger>) {
    let spawned = std::thread::Builder::new().name("drain-watch".into()).spawn(move || {
        std::thread::sleep(after);
        let mut idle_polls = 0;
        loop {
            std::thread::sleep(Duration::from_millis(100));
            if Metrics::global().in_flight.get() <= 0 {
                idle_polls += 1;
                if idle_polls >= 2 {
                    if !ledger.flush(Some(LEDGER_FLUSH_WAIT)) {
                        log::error!("the usage ledger did not finish writing within {LEDGER_FLUSH_WAIT:?}");
                    }
                    log::info!("drained: no request in flight, exiting");
                    std::process::exit(0);
                }
            } else {
                idle_polls = 0;
            }
        }
    });
    if let Err(e) = spawned {
        log::warn!("cannot watch the drain ({e}); waiting out the grace period instead");
    }
}
