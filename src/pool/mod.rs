//! A provider's keys as a pool: which key serves the next request, and what a key's recent
//! answers mean for it. Selection uses `pingora-load-balancing` (weighted round robin, random,
//! Ketama consistent hashing); this module adds the LLM-specific state on top:
//!
//! - **cooldown**: a 429 rests the key for the provider's `Retry-After` (or the configured default);
//! - **circuit**: repeated 5xx / connect failures open a circuit that rests the key for a while;
//! - **disable**: a 401/403 means the key itself is bad; it is taken out until the next config load;
//! - **cache affinity**: requests of one conversation hash (Ketama) to the same key so the
//!   provider's prompt cache stays warm; the next key on the ring serves only while it rests.
//!
//! Keys become ring nodes under a stable pseudo-address derived from the key's digest, so adding
//! or removing one key moves only that key's share of conversations. All state is atomics: no
//! lock on the request path. Pure: no proxy types; unit-tested here.

use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pingora_load_balancing::selection::{BackendIter, BackendSelection, Consistent, Random, RoundRobin};
use pingora_load_balancing::Backend;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// How a key is chosen when no conversation affinity applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Weighted round robin.
    RoundRobin,
    /// Weighted random.
    Random,
    /// The available key with the fewest requests in flight.
    LeastInFlight,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    pub strategy: Strategy,
    /// Stick conversations to keys (when the request carries a session identity).
    pub affinity: bool,
    /// Rest after a 429 without `Retry-After`.
    pub cooldown: Duration,
    /// Consecutive 5xx / connect failures that open the circuit.
    pub circuit_failures: u32,
    pub circuit_open: Duration,
    /// Relative weights, one per key (empty: all 1).
    pub weights: Vec<usize>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            strategy: Strategy::RoundRobin,
            affinity: true,
            cooldown: Duration::from_secs(30),
            circuit_failures: 5,
            circuit_open: Duration::from_secs(30),
            weights: Vec::new(),
        }
    }
}

/// What an attempt with a key came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// 429, with the provider's `Retry-After` if it sent one.
    RateLimited(Option<Duration>),
    /// 5xx, 529, connect failure, timeout.
    Failed,
    /// 401 / 403: the key is refused.
    Refused,
}

/// A state change worth a metric and a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    CoolingDown(Duration),
    CircuitOpened(Duration),
    Disabled,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::CoolingDown(_) => "cooldown",
            Change::CircuitOpened(_) => "circuit_open",
            Change::Disabled => "disabled",
        }
    }
}

/// The pool's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Key(usize),
    /// A pool with no keys (a local server that needs none).
    NoKeys,
    /// Every key rests; the soonest is back after this long (`None`: all disabled).
    Unavailable(Option<Duration>),
}

struct Slot {
    secret: Secret,
    /// Milliseconds since the pool's epoch before which the key rests.
    rest_until_ms: AtomicU64,
    failures: AtomicU32,
    disabled: AtomicBool,
    in_flight: AtomicUsize,
}

pub struct KeyPool {
    slots: Vec<Slot>,
    by_addr: HashMap<SocketAddr, usize>,
    round_robin: Arc<RoundRobin>,
    random: Arc<Random>,
    ketama: Arc<Consistent>,
    settings: PoolSettings,
    epoch: Instant,
}

/// A stable ring address for a key: its digest, never the key.
fn pseudo_addr(secret: &Secret) -> SocketAddr {
    let digest = Sha256::digest(secret.expose().as_bytes());
    let mut octets = [0u8; 16];
    octets[0] = 0xfd;
    octets[1..].copy_from_slice(&digest[..15]);
    SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(octets), 1, 0, 0))
}

impl KeyPool {
    pub fn new(keys: &[Secret], settings: PoolSettings) -> KeyPool {
        let mut backends = BTreeSet::new();
        let mut by_addr = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            let addr = pseudo_addr(key);
            let weight = settings.weights.get(i).copied().unwrap_or(1).max(1);
            by_addr.insert(addr, i);
            backends.insert(Backend { addr: pingora_core::protocols::l4::socket::SocketAddr::Inet(addr), weight, ext: Default::default() });
        }
        let slots = keys
            .iter()
            .map(|k| Slot { secret: k.clone(), rest_until_ms: AtomicU64::new(0), failures: AtomicU32::new(0), disabled: AtomicBool::new(false), in_flight: AtomicUsize::new(0) })
            .collect();
        KeyPool {
            slots,
            by_addr,
            round_robin: Arc::new(RoundRobin::build(&backends)),
            random: Arc::new(Random::build(&backends)),
            ketama: Arc::new(Consistent::build(&backends)),
            settings,
            epoch: Instant::now(),
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn secret(&self, index: usize) -> Option<&Secret> {
        self.slots.get(index).map(|s| &s.secret)
    }

    fn now_ms(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    fn available(&self, index: usize, now_ms: u64) -> bool {
        let slot = &self.slots[index];
        !slot.disabled.load(Ordering::Relaxed) && slot.rest_until_ms.load(Ordering::Relaxed) <= now_ms
    }

    fn index_of(&self, backend: &Backend) -> Option<usize> {
        match &backend.addr {
            pingora_core::protocols::l4::socket::SocketAddr::Inet(addr) => self.by_addr.get(addr).copied(),
            _ => None,
        }
    }

    /// The first available key an iterator yields, trying at most a few rounds of the pool.
    fn first_available(&self, mut iter: impl BackendIter, now_ms: u64) -> Option<usize> {
        for _ in 0..self.slots.len() * 4 {
            let index = self.index_of(iter.next()?)?;
            if self.available(index, now_ms) {
                return Some(index);
            }
        }
        (0..self.slots.len()).find(|&i| self.available(i, now_ms))
    }

    /// Chooses a key; `session` (a conversation identity) makes the choice sticky.
    pub fn pick(&self, session: Option<&[u8]>, now: Instant) -> Pick {
        if self.slots.is_empty() {
            return Pick::NoKeys;
        }
        let now_ms = self.now_ms(now);
        let chosen = match (session, self.settings.affinity && self.slots.len() > 1) {
            (Some(session), true) => self.first_available(self.ketama.iter(session), now_ms),
            _ => match self.settings.strategy {
                Strategy::RoundRobin => self.first_available(self.round_robin.iter(b""), now_ms),
                Strategy::Random => self.first_available(self.random.iter(b""), now_ms),
                Strategy::LeastInFlight => (0..self.slots.len())
                    .filter(|&i| self.available(i, now_ms))
                    .min_by_key(|&i| self.slots[i].in_flight.load(Ordering::Relaxed)),
            },
        };
        match chosen {
            Some(index) => Pick::Key(index),
            None => {
                let soonest = self
                    .slots
                    .iter()
                    .filter(|s| !s.disabled.load(Ordering::Relaxed))
                    .map(|s| s.rest_until_ms.load(Ordering::Relaxed).saturating_sub(now_ms))
                    .min();
                Pick::Unavailable(soonest.map(Duration::from_millis))
            }
        }
    }

    /// Marks a request on `index` as started; pair with [`KeyPool::finish`].
    pub fn start(&self, index: usize) {
        if let Some(slot) = self.slots.get(index) {
            slot.in_flight.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn finish(&self, index: usize) {
        if let Some(slot) = self.slots.get(index) {
            let _ = slot.in_flight.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
    }

    /// Records what an attempt with `index` came to; returns a state change, if any.
    pub fn report(&self, index: usize, outcome: Outcome, now: Instant) -> Option<Change> {
        let slot = self.slots.get(index)?;
        let now_ms = self.now_ms(now);
        let rest = |d: Duration| {
            let until = now_ms.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            slot.rest_until_ms.fetch_max(until, Ordering::Relaxed);
        };
        match outcome {
            Outcome::Success => {
                slot.failures.store(0, Ordering::Relaxed);
                None
            }
            Outcome::RateLimited(retry_after) => {
                let d = retry_after.unwrap_or(self.settings.cooldown);
                rest(d);
                Some(Change::CoolingDown(d))
            }
            Outcome::Failed => {
                let failures = slot.failures.fetch_add(1, Ordering::Relaxed) + 1;
                if failures >= self.settings.circuit_failures {
                    slot.failures.store(0, Ordering::Relaxed);
                    rest(self.settings.circuit_open);
                    Some(Change::CircuitOpened(self.settings.circuit_open))
                } else {
                    None
                }
            }
            Outcome::Refused => (!slot.disabled.swap(true, Ordering::Relaxed)).then_some(Change::Disabled),
        }
    }
}

/// Parses `Retry-After` given in seconds (the form LLM providers use).
pub fn retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

#[cfg(test)]
mod tests;
