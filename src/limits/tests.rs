//! The decision logic on the in-process store: all-or-nothing counting, key before team, refusals
//! that name the limit, and corrections. (The shared store runs the same checks in Redis: tests/limits_redis.rs.)

use super::*;
use async_trait::async_trait;

fn limits(rpm: Option<u64>, tpm: Option<u64>, concurrent: Option<u64>) -> LimitSet {
    LimitSet {
        requests_per_minute: rpm,
        tokens_per_minute: tpm,
        max_concurrent: concurrent,
        ..LimitSet::default()
    }
}

fn team(name: &str, set: LimitSet) -> Option<Arc<Scope>> {
    Scope::new(ScopeKind::Team, name, name, set)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn admit(
    limiter: &Limiter,
    key: &Option<Arc<Scope>>,
    team: &Option<Arc<Scope>>,
    tokens: u64,
) -> Result<Option<Admission>, Refusal> {
    block_on(limiter.admit(Subjects::new(key.as_ref(), team.as_ref()), tokens))
}

#[test]
fn no_limits_means_no_scope_and_no_counting() {
    assert!(Scope::new(ScopeKind::Team, "free", "free", LimitSet::default()).is_none());
    let limiter = Limiter::new(None).unwrap();
    assert!(admit(&limiter, &None, &None, 10).unwrap().is_none());
}

#[test]
fn requests_per_minute_admits_exactly_the_limit() {
    let limiter = Limiter::new(None).unwrap();
    let platform = team("rpm-platform", limits(Some(3), None, None));
    for _ in 0..3 {
        let admission = admit(&limiter, &None, &platform, 1)
            .unwrap()
            .expect("admitted");
        limiter.settle(admission, Actual::default());
    }
    let refusal = admit(&limiter, &None, &platform, 1)
        .err()
        .expect("the fourth is refused");
    let message = refusal.message();
    assert!(
        message.starts_with("team `rpm-platform` exceeded requests_per_minute (3); resets in "),
        "{message}"
    );
    let retry = refusal.retry_after().unwrap();
    assert!((1..=120).contains(&retry), "{retry}");
    assert!(
        message.contains(&format!("resets in {retry} s")),
        "{message}"
    );
    assert_eq!(refusal.label(), "requests_per_minute");
    // Other teams keep their own counters.
    let other = team("rpm-other", limits(Some(3), None, None));
    assert!(admit(&limiter, &None, &other, 1).unwrap().is_some());
}

#[test]
fn a_refused_request_counts_against_nothing() {
    let limiter = Limiter::new(None).unwrap();
    // The key allows many; the team's concurrency is what refuses. The key's count must not move.
    let key = Scope::new(
        ScopeKind::Key,
        "undo-key",
        "undo-team",
        limits(Some(2), None, None),
    );
    let team = team("undo-team", limits(None, None, Some(1)));
    let held = admit(&limiter, &key, &team, 1)
        .unwrap()
        .expect("first admitted");
    for _ in 0..5 {
        let refusal = admit(&limiter, &key, &team, 1).err().expect("no slot");
        assert_eq!(refusal.label(), "max_concurrent");
        assert_eq!(refusal.retry_after(), Some(1));
        assert!(
            refusal
                .message()
                .starts_with("team `undo-team` exceeded max_concurrent (1)"),
            "{}",
            refusal.message()
        );
    }
    drop(held);
    // The key's rpm saw one request, not six: one more fits.
    let second = admit(&limiter, &key, &team, 1)
        .unwrap()
        .expect("slot free again, key has room");
    drop(second);
    let refusal = admit(&limiter, &key, &team, 1).err().unwrap();
    assert!(
        refusal
            .message()
            .starts_with("key `undo-key` exceeded requests_per_minute (2)"),
        "{}",
        refusal.message()
    );
}

#[test]
fn settling_or_dropping_frees_the_slot() {
    let limiter = Limiter::new(None).unwrap();
    let team = team("slots", limits(None, None, Some(2)));
    let a = admit(&limiter, &None, &team, 1).unwrap().unwrap();
    let b = admit(&limiter, &None, &team, 1).unwrap().unwrap();
    assert!(admit(&limiter, &None, &team, 1).is_err());
    limiter.settle(a, Actual::default());
    let c = admit(&limiter, &None, &team, 1).unwrap().unwrap();
    drop(b);
    drop(c);
    let _d = admit(&limiter, &None, &team, 1).unwrap().unwrap();
    let _e = admit(&limiter, &None, &team, 1).unwrap().unwrap();
}

#[test]
fn tokens_are_estimated_then_corrected() {
    let limiter = Limiter::new(None).unwrap();
    let team = team("tpm", limits(None, Some(1000), None));
    let first = admit(&limiter, &None, &team, 600).unwrap().unwrap();
    let refusal = admit(&limiter, &None, &team, 600)
        .err()
        .expect("600 + 600 > 1000");
    assert!(
        refusal.message().contains(
            "exceeded tokens_per_minute (1000): this request is estimated at 600 tokens; resets in"
        ),
        "{}",
        refusal.message()
    );
    // It really used 100: 500 are given back, and the same request fits now.
    limiter.settle(first, reported(100));
    let second = admit(&limiter, &None, &team, 600).unwrap().unwrap();
    // It used more than estimated: the window is charged the difference.
    limiter.settle(second, reported(850));
    assert!(
        admit(&limiter, &None, &team, 60).is_err(),
        "100 + 850 + 60 > 1000"
    );
    assert!(
        admit(&limiter, &None, &team, 50).is_ok(),
        "100 + 850 + 50 = 1000"
    );
}

fn reported(tokens: u64) -> Actual {
    Actual {
        tokens: Some(tokens),
        reported: true,
        ..Actual::default()
    }
}

#[test]
fn figures_the_provider_did_not_report_never_lower_the_estimate() {
    let limiter = Limiter::new(None).unwrap();
    let team = team("floor", limits(None, Some(1000), None));
    // A stream cut before its usage: 40 tokens seen, 600 estimated — the 600 stand.
    let cut = admit(&limiter, &None, &team, 600).unwrap().unwrap();
    limiter.settle(
        cut,
        Actual {
            tokens: Some(40),
            reported: false,
            ..Actual::default()
        },
    );
    assert!(
        admit(&limiter, &None, &team, 401).is_err(),
        "600 + 401 > 1000"
    );
    // No response read at all (the provider answered with an error): the estimate stands too.
    let failed = admit(&limiter, &None, &team, 300).unwrap().unwrap();
    limiter.settle(failed, Actual::from_usage(None));
    assert!(
        admit(&limiter, &None, &team, 101).is_err(),
        "600 + 300 + 101 > 1000"
    );
    // Seen more than estimated, unreported: the larger figure counts.
    let long = admit(&limiter, &None, &team, 50).unwrap().unwrap();
    limiter.settle(
        long,
        Actual {
            tokens: Some(100),
            reported: false,
            ..Actual::default()
        },
    );
    assert!(
        admit(&limiter, &None, &team, 1).is_err(),
        "600 + 300 + 100 = 1000: full"
    );
}

#[test]
fn every_input_token_counts_cached_or_not() {
    let usage = crate::usage::TokenUsage {
        input_tokens: 10,
        output_tokens: 7,
        cache_read_input_tokens: 3000,
        cache_creation_input_tokens: 200,
        cache_creation_1h_input_tokens: 50,
        reasoning_tokens: 5,
        reported: true,
    };
    let extracted = Extracted {
        usage,
        partial: false,
    };
    assert_eq!(
        Actual::from_usage(Some(&extracted)),
        reported(10 + 3000 + 200 + 7)
    );
    let cut = Extracted {
        usage: crate::usage::TokenUsage {
            reported: false,
            ..usage
        },
        partial: true,
    };
    assert_eq!(
        Actual::from_usage(Some(&cut)),
        Actual {
            tokens: Some(3217),
            reported: false,
            ..Actual::default()
        }
    );
}

#[test]
fn a_request_over_the_whole_limit_is_refused_without_retry_after() {
    let limiter = Limiter::new(None).unwrap();
    let team = team("huge", limits(None, Some(1000), None));
    let refusal = admit(&limiter, &None, &team, 5000).err().unwrap();
    assert_eq!(refusal.retry_after(), None);
    assert!(
        refusal
            .message()
            .contains("this request alone is estimated at 5000 tokens"),
        "{}",
        refusal.message()
    );
}

#[test]
fn refusals_become_429_and_store_failures_503_in_the_callers_format() {
    let scope = team("fmt", limits(Some(1), None, None)).unwrap();
    let over = Refusal::Over(Over {
        scope: scope.clone(),
        kind: LimitKind::RequestsPerMinute,
        limit: 60,
        cost: 1,
        wait: Some(Duration::from_millis(11_200)),
        exhausted: None,
    });
    let error = GatewayError::from(over);
    assert_eq!(error.kind.status(), 429);
    assert_eq!(
        error.kind.label(),
        "limit_exceeded",
        "the ledger tells it from a provider's 429"
    );
    assert_eq!(error.retry_after, Some(12));
    assert_eq!(
        error.message,
        "team `fmt` exceeded requests_per_minute (60); resets in 12 s"
    );
    let body: serde_json::Value =
        serde_json::from_slice(&error.body(crate::api::ApiFormat::Anthropic, "req")).unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    let down = GatewayError::from(Refusal::StoreUnavailable {
        scope,
        reason: "no answer within 50 ms".into(),
    });
    assert_eq!(down.kind.status(), 503);
    assert_eq!(down.kind.label(), "unavailable");
    assert!(
        down.message.contains(
            "shared limit store (Redis) that counts them is unavailable (no answer within 50 ms)"
        ),
        "{}",
        down.message
    );
    let body: serde_json::Value =
        serde_json::from_slice(&down.body(crate::api::ApiFormat::OpenAi, "req")).unwrap();
    assert_eq!(body["error"]["code"], "service_unavailable");
}

#[test]
fn the_estimate_is_four_bytes_per_token() {
    assert_eq!(estimate_tokens(0), 0);
    assert_eq!(estimate_tokens(1), 1);
    assert_eq!(estimate_tokens(4000), 1000);
}

#[test]
fn describe_lists_what_is_set() {
    assert_eq!(
        limits(Some(60), None, Some(4)).describe(),
        "requests_per_minute 60, max_concurrent 4"
    );
    assert_eq!(LimitSet::default().describe(), "none");
}

/// Spend as the ledger would report it: per (scope, name), whatever the period.
struct Ledger(Vec<(ScopeKind, &'static str, u64)>);

#[async_trait]
impl SpendSource for Ledger {
    async fn spent_since(&self, scope: ScopeKind, name: &str, _: i64) -> Result<u64, String> {
        Ok(self
            .0
            .iter()
            .filter(|(k, n, _)| *k == scope && *n == name)
            .map(|e| e.2)
            .sum())
    }
}

fn budgets(day: Option<u64>, month: Option<u64>) -> LimitSet {
    LimitSet {
        budget_usd_per_day: day,
        budget_usd_per_month: month,
        ..LimitSet::default()
    }
}

const USD: u64 = budget::NANO_PER_USD;

fn cost(nano: u64) -> Actual {
    Actual {
        cost_nano_usd: Some(nano),
        ..Actual::default()
    }
}

#[test]
fn a_budget_spent_before_the_start_refuses_with_what_was_spent_and_when_it_renews() {
    let ledger = Ledger(vec![
        (ScopeKind::Team, "spent", 12 * USD),
        (ScopeKind::Team, "thrifty", USD),
    ]);
    let limiter = Limiter::with_spend(None, Arc::new(ledger)).unwrap();
    let spent = team("spent", budgets(None, Some(10 * USD)));
    let refusal = admit(&limiter, &None, &spent, 1)
        .err()
        .expect("over its monthly budget");
    let message = refusal.message();
    assert!(
        message.starts_with("team `spent` has reached its monthly budget (budget_usd_per_month 10 USD): 12.000000 USD spent this month (UTC); it renews at "),
        "{message}"
    );
    let renews = budget::Period::Month.span(crate::ledger::now_ms()).end_ms;
    let wait = refusal.retry_after().unwrap();
    let expected = (renews - crate::ledger::now_ms()) as f64 / 1000.0;
    assert!(
        (wait as f64 - expected).abs() <= 2.0,
        "{wait} s, renews in {expected} s"
    );
    assert_eq!(refusal.label(), "budget_usd_per_month");
    assert_eq!(GatewayError::from(refusal).kind.status(), 429);
    // Another team with room is served; below 80 % it gets no warning.
    let thrifty = team("thrifty", budgets(None, Some(10 * USD)));
    let admission = admit(&limiter, &None, &thrifty, 1).unwrap().unwrap();
    assert!(admission.warning().is_none());
}

#[test]
fn costs_settled_count_until_the_budget_is_reached_and_warn_past_the_threshold() {
    let limiter = Limiter::new(None).unwrap();
    let daily = team("daily", budgets(Some(USD), None));
    let first = admit(&limiter, &None, &daily, 1).unwrap().unwrap();
    assert!(first.warning().is_none());
    limiter.settle(first, cost(USD * 85 / 100));
    let second = admit(&limiter, &None, &daily, 1).unwrap().unwrap();
    let warning = second.warning().expect("85 % spent, past 80 %");
    assert_eq!(warning.header_value(), "0.150000");
    assert_eq!(warning.kind, LimitKind::BudgetPerDay);
    limiter.settle(second, cost(USD * 15 / 100));
    let refusal = admit(&limiter, &None, &daily, 1)
        .err()
        .expect("1 of 1 USD spent");
    assert!(
        refusal
            .message()
            .contains("daily budget (budget_usd_per_day 1 USD): 1.000000 USD spent this day (UTC)"),
        "{}",
        refusal.message()
    );
}

#[test]
fn a_keys_budget_blocks_that_key_only_and_the_tightest_budget_is_reported() {
    let ledger = Ledger(vec![(ScopeKind::Key, "alice", 5 * USD)]);
    let limiter = Limiter::with_spend(None, Arc::new(ledger)).unwrap();
    let alice = Scope::new(
        ScopeKind::Key,
        "alice",
        "shared",
        budgets(Some(5 * USD), None),
    );
    let bob = Scope::new(
        ScopeKind::Key,
        "bob",
        "shared",
        budgets(Some(5 * USD), None),
    );
    let shared = team("shared", budgets(None, Some(100 * USD)));
    let refusal = admit(&limiter, &alice, &shared, 1).err().unwrap();
    assert!(
        refusal
            .message()
            .starts_with("key `alice` has reached its daily budget"),
        "{}",
        refusal.message()
    );
    let admission = admit(&limiter, &bob, &shared, 1).unwrap().unwrap();
    limiter.settle(admission, cost(4_500_000_000));
    let warned = admit(&limiter, &bob, &shared, 1).unwrap().unwrap();
    let warning = warned.warning().unwrap();
    assert_eq!(
        (warning.scope, warning.kind, warning.remaining),
        ("key", LimitKind::BudgetPerDay, 500_000_000)
    );
}

#[test]
fn budgets_read_and_print() {
    let set = LimitSet {
        requests_per_minute: Some(60),
        ..budgets(Some(2_500_000_000), Some(50 * USD))
    };
    assert_eq!(
        set.describe(),
        "requests_per_minute 60, budget_usd_per_day 2.5, budget_usd_per_month 50 (warn at 80 %)"
    );
}
