//! The shared store: counters in Redis, so N replicas enforce one limit together.
//!
//! - **One round trip per admission**, atomic: a Lua script checks every limit the request is held to
//!   and counts it against all of them, or against none when one would go over (no replica can slip
//!   in between the check and the count). Rates are two one-minute window counters per limit
//!   (`INCRBY` + `PEXPIRE`, windows by wall-clock minute, so replicas need clocks kept in sync by NTP
//!   as usual: a skew only shifts where a window starts). Concurrency is a hash of slots per replica,
//!   and a replica's slots count only while its heartbeat key lives (refreshed every 5 s, 15 s TTL): a
//!   replica that dies cannot hold a team's slots for longer than that.
//! - **Off the request path where possible**: giving slots back and correcting token counts are sent
//!   without waiting, together in one script call per request. Admission waits at most
//!   `shared_state.timeout_ms`.
//! - **Its own thread**: the Redis connection (redis-rs' `ConnectionManager`, which reconnects by itself)
//!   lives on a one-thread runtime of its own, so its driver and reconnection tasks never depend on
//!   which Pingora runtime happened to make a call.
//! - **Failures** are counted, logged at most every 10 s, and make the store rest for a second (calls in
//!   that second fail at once instead of each waiting out the timeout); the caller then fails open or
//!   closed. The first call after the rest tries Redis again, so recovery needs nothing from anyone.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, LazyLock, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use super::budget::{BudgetCheck, WarningBuilder};
use super::policy::{LimitKind, Subjects};
use super::spend::{self, SpendSource};
use super::window::{Counts, WINDOW};
use super::{CounterStore, Held, Over, StoreError, Verdict};
use crate::metrics::Metrics;
use crate::secret::Secret;

/// What to do when Redis cannot be reached in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Count on this replica's own counters (each replica then enforces every limit alone).
    FailOpen,
    /// Refuse requests that have limits, with an error saying the limit store is unavailable.
    FailClosed,
}

impl OnError {
    pub fn as_str(self) -> &'static str {
        match self {
            OnError::FailOpen => "fail_open",
            OnError::FailClosed => "fail_closed",
        }
    }
}

/// `shared_state:` as validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSettings {
    /// `redis://[user:password@]host[:port][/db]`; it may hold a password, so it is never printed.
    pub redis_url: Secret,
    /// For logs and `check`: the URL without its password.
    pub location: String,
    pub on_error: OnError,
    /// Longest an admission waits for Redis.
    pub timeout: Duration,
    /// Start of every key, so gateways of different deployments can share one Redis.
    pub key_prefix: String,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// After a failure, calls fail at once for this long instead of waiting out the timeout each.
const REST_AFTER_FAILURE: Duration = Duration::from_secs(1);
const LOG_EVERY: Duration = Duration::from_secs(10);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
const HEARTBEAT_TTL: Duration = Duration::from_secs(15);
/// Window counters outlive the window after them (they are its "previous"), then expire.
const WINDOW_KEY_TTL: Duration = Duration::from_secs(130);
/// An in-flight hash is refreshed by every admission; this only clears one nobody uses any more.
const IN_FLIGHT_TTL: Duration = Duration::from_secs(24 * 3600);

/// Counts one request against every check, or none. See the module docs; the rate inequality is
/// `window::Counts::admits`.
static ADMIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
-- ARGV: replica id, heartbeat key prefix, weight of the previous window (1 - elapsed, in millionths), window key ttl (ms),
-- in-flight hash ttl (ms), then per check: kind ('r' rate, 'c' concurrency or 'b' budget), limit, cost.
-- KEYS, two per check: rate: this window's counter, the previous window's; concurrency: the in-flight hash, twice;
-- budget: the period's spend counter, twice (read only: a request's cost is added when it ends).
-- Answers {0, spend of each budget…} when it counted the request, {i, …} when check i refused it
-- ({i, -1} when budget i's counter is not seeded yet this period).
local replica, alive, weight = ARGV[1], ARGV[2], tonumber(ARGV[3]) / 1000000
local checks = (#ARGV - 5) / 3
local admitted = {0}
for i = 1, checks do
  local kind, limit, cost = ARGV[3 * i + 3], tonumber(ARGV[3 * i + 4]), tonumber(ARGV[3 * i + 5])
  local key = KEYS[2 * i - 1]
  if kind == 'r' then
    local current = tonumber(redis.call('GET', key) or '0')
    local previous = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
    if previous * weight + current + cost > limit then return {i, current, previous} end
  elseif kind == 'b' then
    local spent = redis.call('GET', key)
    if not spent then return {i, -1, 0} end
    spent = tonumber(spent)
    if spent >= limit then return {i, spent, 0} end
    admitted[#admitted + 1] = spent
  else
    local under_way = 0
    local slots = redis.call('HGETALL', key)
    for j = 1, #slots, 2 do
      local owner, n = slots[j], tonumber(slots[j + 1])
      if owner == replica or redis.call('EXISTS', alive .. owner) == 1 then
        under_way = under_way + n
      else
        redis.call('HDEL', key, owner)
      end
    end
    if under_way + 1 > limit then return {i, under_way, 0} end
  end
end
for i = 1, checks do
  local key = KEYS[2 * i - 1]
  local kind = ARGV[3 * i + 3]
  if kind == 'r' then
    redis.call('INCRBY', key, ARGV[3 * i + 5])
    redis.call('PEXPIRE', key, ARGV[4])
  elseif kind == 'c' then
    redis.call('HINCRBY', key, replica, 1)
    redis.call('PEXPIRE', key, ARGV[5])
  end
end
return admitted
",
    )
});

/// A request's end: gives its concurrency slots back, corrects its token counters and adds its cost
/// to its budgets' spend. KEYS: in-flight hashes (ARGV[2] of them), window counters, then budget
/// counters (ARGV[4] of them). ARGV: replica id, number of hashes, counter ttl (ms), number of budget
/// counters, then what to add to each counter, in order (a refund takes back at most what the counter
/// holds). A budget counter not seeded yet this period is left alone: its seed, read from the
/// ledger, will hold this request's cost.
static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local slots, budgets = tonumber(ARGV[2]), tonumber(ARGV[4])
for i = 1, slots do
  if redis.call('HINCRBY', KEYS[i], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[i], ARGV[1]) end
end
for i = slots + 1, #KEYS - budgets do
  local add = tonumber(ARGV[i - slots + 4])
  if add < 0 then add = math.max(add, -tonumber(redis.call('GET', KEYS[i]) or '0')) end
  if add ~= 0 then
    redis.call('INCRBY', KEYS[i], add)
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
  end
end
for i = #KEYS - budgets + 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('INCRBY', KEYS[i], ARGV[i - slots + 4]) end
end
return 0
",
    )
});

pub struct SharedStore {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: tokio::runtime::Handle,
    connection: ConnectionManager,
    prefix: String,
    /// `{prefix}:replica:`, before each replica's heartbeat key.
    heartbeat_prefix: String,
    /// This process's id among the replicas (its concurrency slots are kept under it).
    replica: String,
    timeout: Duration,
    health: Health,
}

/// Where wall-clock minute windows stand now.
struct Clock {
    window: u64,
    elapsed: f64,
}

impl Clock {
    fn now() -> Clock {
        let window_ms = WINDOW.as_millis() as u64;
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Clock {
            window: ms / window_ms,
            elapsed: (ms % window_ms) as f64 / window_ms as f64,
        }
    }
}

impl Inner {
    /// `{prefix}:{team|key}:{name}:{limit}`: a concurrency hash, or the start of a rate's window counters.
    fn scope_key<'a>(&self, scope: &'a super::Scope, limit: LimitKind) -> &'a str {
        let keys = scope.shared_keys.get_or_init(|| {
            LimitKind::ALL.map(|kind| {
                format!(
                    "{}:{}:{}:{}",
                    self.prefix,
                    scope.kind.label(),
                    scope.name,
                    kind.field()
                )
            })
        });
        let index = LimitKind::ALL.iter().position(|&k| k == limit).unwrap_or(0);
        &keys[index]
    }

    /// `{scope key}:{period}`: one budget period's spend (nano-USD).
    fn budget_key(&self, check: &BudgetCheck<'_>) -> String {
        self.window_key(
            self.scope_key(check.scope, check.kind),
            u64::try_from(check.span.id).unwrap_or(0),
        )
    }

    /// `{scope key}:{window}`: one minute's counter.
    fn window_key(&self, base: &str, window: u64) -> String {
        use std::fmt::Write;
        let mut key = String::with_capacity(base.len() + 12);
        key.push_str(base);
        let _ = write!(key, ":{window}");
        key
    }
}

impl SharedStore {
    /// Starts the store's thread and connection (lazily: nothing waits for Redis here).
    pub fn start(settings: &SharedSettings) -> Result<SharedStore, String> {
        let client = redis::Client::open(settings.redis_url.expose())
            .map_err(|e| format!("shared_state.redis_url ({}): {e}", settings.location))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the limit store's runtime: {e}"))?;
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("limit-store".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .map_err(|e| format!("cannot start the limit store's thread: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = {
            let _in_runtime = handle.enter();
            ConnectionManager::new_lazy_with_config(client, config)
                .map_err(|e| format!("shared_state.redis_url ({}): {e}", settings.location))?
        };
        let inner = Arc::new(Inner {
            runtime: handle.clone(),
            connection,
            prefix: settings.key_prefix.clone(),
            heartbeat_prefix: format!("{}:replica:", settings.key_prefix),
            replica: uuid::Uuid::new_v4().simple().to_string(),
            timeout: settings.timeout,
            health: Health::new(settings),
        });
        handle.spawn(heartbeat(Arc::downgrade(&inner)));
        Ok(SharedStore { inner })
    }
}

/// Keeps this replica's heartbeat key alive while the store exists.
async fn heartbeat(store: Weak<Inner>) {
    loop {
        let Some(inner) = store.upgrade() else { return };
        let mut connection = inner.connection.clone();
        let key = format!("{}{}", inner.heartbeat_prefix, inner.replica);
        let mut command = redis::cmd("PSETEX");
        command
            .arg(&key)
            .arg(HEARTBEAT_TTL.as_millis() as u64)
            .arg(1);
        match tokio::time::timeout(RESPONSE_TIMEOUT, command.query_async::<()>(&mut connection))
            .await
        {
            Ok(Ok(())) => inner.health.succeeded(),
            Ok(Err(e)) => inner.health.failed("heartbeat", &e),
            Err(_) => inner.health.failed("heartbeat", &"timed out"),
        }
        drop(inner);
        tokio::time::sleep(HEARTBEAT_EVERY).await;
    }
}

/// Concurrency slots held in Redis; given back (without waiting) when dropped.
pub struct Slots {
    inner: Arc<Inner>,
    keys: Vec<String>,
}

impl Drop for Slots {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let (inner, keys) = (self.inner.clone(), std::mem::take(&mut self.keys));
        self.inner
            .runtime
            .spawn(give_back(inner, keys, Vec::new(), Vec::new(), 0));
    }
}

/// Gives `slots` back and adds `deltas[i]` to `counters[i]` (the last `budgets` of them budget
/// counters), in one script call.
async fn give_back(
    inner: Arc<Inner>,
    slots: Vec<String>,
    counters: Vec<String>,
    deltas: Vec<i64>,
    budgets: usize,
) {
    if slots.is_empty() && counters.is_empty() {
        return;
    }
    let operation = if counters.is_empty() {
        "release"
    } else {
        "adjust"
    };
    let mut connection = inner.connection.clone();
    let mut call = SETTLE.prepare_invoke();
    call.key(&slots)
        .key(&counters)
        .arg(&inner.replica)
        .arg(slots.len())
        .arg(WINDOW_KEY_TTL.as_millis() as u64)
        .arg(budgets)
        .arg(&deltas);
    if let Err(e) = call.invoke_async::<()>(&mut connection).await {
        inner.health.failed(operation, &e);
    }
}

/// One admission's script call, owned so it can run on the store's thread.
struct AdmitCall {
    keys: Vec<String>,
    args: Vec<String>,
    /// What the script counts when it admits, for undoing it when nobody waits for the answer any more.
    slot_keys: Vec<String>,
    rate_keys: Vec<String>,
    rate_costs: Vec<i64>,
}

impl AdmitCall {
    fn new(
        inner: &Inner,
        subjects: &Subjects,
        estimated_tokens: u64,
        clock: &Clock,
        now_ms: i64,
    ) -> AdmitCall {
        let mut call = AdmitCall {
            keys: Vec::new(),
            args: vec![
                inner.replica.clone(),
                inner.heartbeat_prefix.clone(),
                // In millionths: an integer formats far cheaper than a float.
                (((1.0 - clock.elapsed) * 1e6).round() as u64).to_string(),
                WINDOW_KEY_TTL.as_millis().to_string(),
                IN_FLIGHT_TTL.as_millis().to_string(),
            ],
            slot_keys: Vec::new(),
            rate_keys: Vec::new(),
            rate_costs: Vec::new(),
        };
        for check in subjects.checks(estimated_tokens) {
            let base = inner.scope_key(check.scope, check.kind);
            let kind = if check.kind == LimitKind::MaxConcurrent {
                call.slot_keys.push(base.to_owned());
                call.keys.push(base.to_owned());
                call.keys.push(base.to_owned());
                "c"
            } else {
                let current = inner.window_key(base, clock.window);
                call.rate_keys.push(current.clone());
                call.rate_costs
                    .push(-i64::try_from(check.cost).unwrap_or(i64::MAX));
                call.keys.push(current);
                call.keys
                    .push(inner.window_key(base, clock.window.saturating_sub(1)));
                "r"
            };
            call.args.extend([
                kind.to_string(),
                check.limit.to_string(),
                check.cost.to_string(),
            ]);
        }
        for check in subjects.budget_checks(now_ms) {
            let key = inner.budget_key(&check);
            call.keys.push(key.clone());
            call.keys.push(key);
            call.args
                .extend(["b".to_string(), check.limit.to_string(), "0".to_string()]);
        }
        call
    }

    /// Runs the script; hands the answer to `reply`, or undoes what it counted if nobody takes it.
    async fn run(
        self,
        inner: Arc<Inner>,
        reply: tokio::sync::oneshot::Sender<redis::RedisResult<Vec<i64>>>,
    ) {
        let mut connection = inner.connection.clone();
        let mut call = ADMIT.prepare_invoke();
        call.key(&self.keys).arg(&self.args);
        let result = call.invoke_async::<Vec<i64>>(&mut connection).await;
        if let Err(Ok(answer)) = reply.send(result) {
            if answer.first() == Some(&0) {
                give_back(inner, self.slot_keys, self.rate_keys, self.rate_costs, 0).await;
            }
        }
    }
}

/// Admission attempts: each unseeded budget counter costs one (a request has at most four budgets).
const ADMIT_ATTEMPTS: usize = 5;
/// A budget's counter lives this long past its period's end (a replica with a late clock still finds it).
const BUDGET_KEY_GRACE_MS: i64 = 3_600_000;

impl SharedStore {
    /// Runs one admission script call, within the store's timeout.
    async fn run_admit(&self, call: AdmitCall) -> Result<Vec<i64>, StoreError> {
        let inner = &self.inner;
        let (reply, answer) = tokio::sync::oneshot::channel();
        inner.runtime.spawn(call.run(inner.clone(), reply));
        let started = Instant::now();
        let answer = tokio::time::timeout(inner.timeout, answer).await;
        Metrics::global()
            .limits
            .store_seconds
            .observe(started.elapsed().as_secs_f64());
        match answer {
            Ok(Ok(Ok(answer))) => {
                inner.health.succeeded();
                Ok(answer)
            }
            Ok(Ok(Err(e))) => {
                inner.health.failed("admit", &e);
                Err(StoreError::Failed(e.to_string()))
            }
            Ok(Err(_)) => {
                inner
                    .health
                    .failed("admit", &"the store's thread dropped the call");
                Err(StoreError::Failed(
                    "the limit store's thread dropped the call".into(),
                ))
            }
            Err(_) => {
                inner.health.failed(
                    "admit",
                    &format_args!("no answer within {} ms", inner.timeout.as_millis()),
                );
                Err(StoreError::TimedOut(inner.timeout))
            }
        }
    }

    /// Seeds a budget's counter for its period from the ledger, unless a replica already has
    /// (`SET NX`): every replica then counts from the same figure.
    async fn seed(
        &self,
        check: &BudgetCheck<'_>,
        spend: &dyn SpendSource,
    ) -> Result<(), StoreError> {
        let spent = spend::seed(spend, check)
            .await
            .map_err(StoreError::Failed)?;
        let inner = self.inner.clone();
        let key = inner.budget_key(check);
        let expires = check.span.end_ms.saturating_add(BUDGET_KEY_GRACE_MS);
        let set = self.inner.runtime.spawn(async move {
            let mut connection = inner.connection.clone();
            let mut command = redis::cmd("SET");
            command
                .arg(&key)
                .arg(spent)
                .arg("NX")
                .arg("PXAT")
                .arg(expires);
            tokio::time::timeout(RESPONSE_TIMEOUT, command.query_async::<()>(&mut connection)).await
        });
        match set.await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => {
                self.inner.health.failed("seed", &e);
                Err(StoreError::Failed(e.to_string()))
            }
            Ok(Err(_)) => {
                self.inner.health.failed("seed", &"timed out");
                Err(StoreError::TimedOut(RESPONSE_TIMEOUT))
            }
            Err(e) => Err(StoreError::Failed(e.to_string())),
        }
    }
}

#[async_trait]
impl CounterStore for SharedStore {
    async fn acquire(
        &self,
        subjects: &Subjects,
        estimated_tokens: u64,
        spend: &dyn SpendSource,
        now_ms: i64,
    ) -> Result<Verdict, StoreError> {
        let inner = &self.inner;
        if !inner.health.may_try() {
            return Err(StoreError::Resting);
        }
        for _ in 0..ADMIT_ATTEMPTS {
            let clock = Clock::now();
            let call = AdmitCall::new(inner, subjects, estimated_tokens, &clock, now_ms);
            let slot_keys = call.slot_keys.clone();
            let answer = self.run_admit(call).await?;
            let bad = || StoreError::Failed(format!("the admission script answered {answer:?}"));
            let refused =
                usize::try_from(answer.first().copied().unwrap_or(-1)).map_err(|_| bad())?;
            let count = |i: usize| u64::try_from(answer.get(i).copied().unwrap_or(0)).unwrap_or(0);
            if refused == 0 {
                let mut warning = WarningBuilder::default();
                for (i, check) in subjects.budget_checks(now_ms).enumerate() {
                    warning.add(&check, count(i + 1));
                }
                let held = Held::Shared(Slots {
                    inner: inner.clone(),
                    keys: slot_keys,
                });
                return Ok(Verdict::Admitted(held, warning.finish()));
            }
            let rates = subjects.checks(estimated_tokens).count();
            if refused <= rates {
                return match subjects.checks(estimated_tokens).nth(refused - 1) {
                    Some(check) if check.kind == LimitKind::MaxConcurrent => {
                        Ok(Verdict::Refused(Over::concurrency(&check)))
                    }
                    Some(check) => Ok(Verdict::Refused(Over::rate(
                        &check,
                        &Counts {
                            previous: count(2),
                            current: count(1),
                            elapsed: clock.elapsed,
                        },
                    ))),
                    None => Err(bad()),
                };
            }
            let check = subjects
                .budget_checks(now_ms)
                .nth(refused - rates - 1)
                .ok_or_else(bad)?;
            if answer.get(1) != Some(&-1) {
                return Ok(Verdict::Refused(Over::budget(&check, count(1), now_ms)));
            }
            self.seed(&check, spend).await?;
        }
        Err(StoreError::Failed(
            "budget counters were not seeded after several attempts".into(),
        ))
    }

    fn settle(&self, subjects: &Subjects, delta: i64, cost: u64, held: Held) {
        let inner = &self.inner;
        let clock = Clock::now();
        let mut counters: Vec<String> = Vec::new();
        if delta != 0 {
            counters.extend(
                subjects
                    .checks(0)
                    .filter(|c| c.kind == LimitKind::TokensPerMinute)
                    .map(|c| inner.window_key(inner.scope_key(c.scope, c.kind), clock.window)),
            );
        }
        let mut deltas = vec![delta; counters.len()];
        let mut budgets = 0;
        if cost > 0 {
            for check in subjects.budget_checks(crate::ledger::now_ms()) {
                counters.push(inner.budget_key(&check));
                deltas.push(i64::try_from(cost).unwrap_or(i64::MAX));
                budgets += 1;
            }
        }
        // The slots go back in the same call as the corrections: one message, one round trip.
        let slots = match held {
            Held::Shared(mut slots) => std::mem::take(&mut slots.keys),
            Held::Local(_) => Vec::new(),
        };
        if !counters.is_empty() || !slots.is_empty() {
            inner
                .runtime
                .spawn(give_back(inner.clone(), slots, counters, deltas, budgets));
        }
    }
}

const UNKNOWN: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// Whether Redis answers: drives the rest after a failure, the `up` gauge and the (rate-limited) log.
struct Health {
    start: Instant,
    state: AtomicU8,
    /// Milliseconds since `start` before which calls fail at once.
    resting_until: AtomicU64,
    last_log: AtomicU64,
    unlogged: AtomicU64,
    location: String,
    on_error: OnError,
}

impl Health {
    fn new(settings: &SharedSettings) -> Health {
        Health {
            start: Instant::now(),
            state: AtomicU8::new(UNKNOWN),
            resting_until: AtomicU64::new(0),
            last_log: AtomicU64::new(0),
            unlogged: AtomicU64::new(0),
            location: settings.location.clone(),
            on_error: settings.on_error,
        }
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn may_try(&self) -> bool {
        self.now_ms() >= self.resting_until.load(Ordering::Relaxed)
    }

    fn failed(&self, operation: &'static str, error: &dyn std::fmt::Display) {
        let metrics = &Metrics::global().limits;
        metrics.store_errors.with_label_values(&[operation]).inc();
        metrics.store_up.set(0);
        let now = self.now_ms();
        self.resting_until.store(
            now + REST_AFTER_FAILURE.as_millis() as u64,
            Ordering::Relaxed,
        );
        self.state.store(DOWN, Ordering::Relaxed);
        let failures = self.unlogged.fetch_add(1, Ordering::Relaxed) + 1;
        let last = self.last_log.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= LOG_EVERY.as_millis() as u64;
        if due
            && self
                .last_log
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.unlogged.store(0, Ordering::Relaxed);
            let policy = match self.on_error {
                OnError::FailOpen => {
                    "counting on this replica's own counters until it answers (on_error: fail_open)"
                }
                OnError::FailClosed => {
                    "refusing requests that have limits until it answers (on_error: fail_closed)"
                }
            };
            log::warn!("limit store {} failed ({operation}: {error}; {failures} failure(s) since the last message): {policy}", self.location);
        }
    }

    fn succeeded(&self) {
        match self.state.swap(UP, Ordering::Relaxed) {
            UP => {}
            DOWN => {
                Metrics::global().limits.store_up.set(1);
                log::info!(
                    "limit store {} answers again: limits are shared by every replica again",
                    self.location
                );
            }
            _ => {
                Metrics::global().limits.store_up.set(1);
                log::info!("limit store {} connected", self.location);
            }
        }
    }
}
