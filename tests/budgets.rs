//! Spend budgets through the real binary: a team whose monthly budget was spent earlier this month
//! (by a gateway that ran before, into the same SQLite ledger) is refused in the Anthropic and OpenAI
//! formats with 429, `Retry-After` until the month renews and a message naming the budget, what was
//! spent and when it renews; other teams are served; a daily budget reached by this gateway's own
//! requests blocks the next one, after a request that carried `x-switchyard-budget-remaining`; a key's
//! own budget blocks that key only; and a restarted gateway keeps every block, seeded from the ledger.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::usage::wait_written;
use common::*;
use serde_json::{json, Value};

/// One mock behind an Anthropic provider (`claude-*`) and an OpenAI one (`gpt-*`); the ledger in `store`.
fn config(mock: &Mock, store: &Path, teams: &str) -> String {
    let providers = provider_yaml("anth", "anthropic", &mock.url(), "sk-ant-api03-budgets")
        + &provider_yaml(
            "oai",
            "openai",
            &format!("{}/v1", mock.url()),
            "sk-proj-budgets",
        );
    format!(
        "server:\n  threads: 2\n  grace_period_seconds: 5\nproviders:\n{providers}models:\n  - {{ name: \"claude-*\", targets: [\"anth/*\"] }}\n  - {{ name: \"gpt-*\", targets: [\"oai/*\"] }}\nusage: {{ store: \"sqlite://{}\", flush_interval_ms: 20 }}\nteams:\n{teams}",
        store.display()
    )
}

fn start(config: &str) -> Gateway {
    Gateway::with_config(config)
        .env("SPENDER_KEY", "spender-secret")
        .env("WARNED_KEY", "warned-secret")
        .env("FREE_KEY", "free-secret")
        .env("CAPPED_KEY", "capped-secret")
        .start()
}

fn send(gw: &Gateway, format: &str, key: &str) -> reqwest::blocking::Response {
    let (path, body) = match format {
        "anthropic" => (
            "/v1/messages",
            json!({"model": "claude-haiku-4-5", "max_tokens": 20, "messages": [{"role": "user", "content": "hello budget"}]}),
        ),
        _ => (
            "/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello budget"}]}),
        ),
    };
    client()
        .post(gw.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .unwrap()
}

/// Stops a gateway gracefully, so its ledger has written everything.
fn stop(mut gw: Gateway) {
    gw.process.signal("TERM");
    gw.process
        .wait_exit(Duration::from_secs(30))
        .expect("the gateway exits after SIGTERM");
}

/// When the current UTC day and month end, as `YYYY-MM-DDT00:00:00Z`, and seconds until each (GNU `date`).
fn renewals() -> ((String, u64), (String, u64)) {
    let date = |args: &[&str]| {
        let out = std::process::Command::new("date")
            .arg("-u")
            .args(args)
            .output()
            .expect("date");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let now: u64 = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at = |spec: &str| -> (String, u64) {
        let secs: u64 = date(&["-d", spec, "+%s"]).parse().expect("date +%s");
        (
            date(&["-d", spec, "+%Y-%m-%dT%H:%M:%SZ"]),
            secs.saturating_sub(now),
        )
    };
    let month_start = date(&["+%Y-%m-01"]);
    (at("tomorrow 00:00"), at(&format!("{month_start} +1 month")))
}

/// USD as the gateway prints a spend: six decimals, rounded down.
fn usd_6(usd: f64) -> String {
    let nano = (usd * 1e9).round() as u64;
    format!(
        "{}.{:06}",
        nano / 1_000_000_000,
        nano % 1_000_000_000 / 1000
    )
}

/// USD rounded to whole nano-USD, printed as the shortest decimal.
fn nano_round(usd: f64) -> f64 {
    (usd * 1e9).round() / 1e9
}

#[test]
fn budgets_refuse_the_team_that_spent_them_warn_before_and_survive_a_restart() {
    // Every budget here renews at midnight UTC at the latest: start well away from it.
    let ((_, to_midnight), _) = renewals();
    if to_midnight < 20 {
        std::thread::sleep(Duration::from_secs(to_midnight + 1));
    }
    let mock = Mock::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("usage.db");
    let teams = |spender: &str, warned: &str| {
        format!(
            "  - {{ name: spender, keys: [{{ env: SPENDER_KEY }}]{spender} }}\n  - {{ name: warned, keys: [{{ env: WARNED_KEY }}]{warned} }}\n  - {{ name: free, keys: [{{ env: FREE_KEY }}, {{ env: CAPPED_KEY, name: capped, limits: {{ budget_usd_per_day: 0.000001 }} }}] }}\n"
        )
    };

    // Earlier this month: a gateway without budgets serves `spender` (into the same ledger).
    let before = start(&config(&mock, &store, &teams("", "")));
    for format in ["anthropic", "openai", "anthropic"] {
        assert_eq!(send(&before, format, "spender-secret").status(), 200);
    }
    wait_written(&before, 3);
    let spent: Vec<Value> = before.usage_json("team");
    let spent_usd: f64 = spent[0]["cost_usd"].as_f64().expect("priced");
    assert_eq!(spent[0]["team"], "spender");
    // What one Anthropic request costs (the mock answers the same request with the same usage).
    let one = send(&before, "anthropic", "warned-secret");
    assert_eq!(one.status(), 200);
    wait_written(&before, 4);
    let per_request = before.usage_json("team")[1]["cost_usd"].as_f64().unwrap();
    assert!(per_request > 0.0);
    stop(before);

    // Now: `spender` has a monthly budget below what it spent; `warned` a daily budget that one more
    // request takes past 80 % and the one after to its end.
    let monthly = nano_round(spent_usd / 2.0);
    let daily = nano_round(per_request * 2.1);
    let budgets = config(
        &mock,
        &store,
        &teams(
            &format!(", limits: {{ budget_usd_per_month: {monthly} }}"),
            &format!(", limits: {{ budget_usd_per_day: {daily}, budget_warn_at: 0.8 }}"),
        ),
    );
    let gw = start(&budgets);
    let ((next_day, to_day), (next_month, to_month)) = renewals();
    for format in ["anthropic", "openai"] {
        let (retry, message) = refusal(send(&gw, format, "spender-secret"), format);
        assert!(
            retry.abs_diff(to_month) <= 5,
            "Retry-After {retry}, the month renews in {to_month} s"
        );
        assert!(
            message.starts_with(&format!("team `spender` has reached its monthly budget (budget_usd_per_month {monthly} USD): {} USD spent this month (UTC); it renews at {next_month} (in ", usd_6(spent_usd))),
            "{message}"
        );
    }
    let free = send(&gw, "openai", "free-secret");
    assert_eq!(free.status(), 200, "another team is served");
    assert!(free
        .headers()
        .get("x-switchyard-budget-remaining")
        .is_none());

    // `warned` spent one request's cost before: below 80 % of 2.1 requests' worth, no header.
    let first = send(&gw, "anthropic", "warned-secret");
    assert_eq!(first.status(), 200);
    assert!(first
        .headers()
        .get("x-switchyard-budget-remaining")
        .is_none());
    // Its cost is charged when it ends: written to the ledger means settled (two refusals and `free`'s
    // request are records too).
    wait_written(&gw, 4);
    // Two spent of 2.1: past 80 %, and what is left is said.
    let second = send(&gw, "anthropic", "warned-secret");
    assert_eq!(second.status(), 200);
    let remaining: f64 = second.headers()["x-switchyard-budget-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (remaining - (daily - 2.0 * per_request)).abs() < 2e-6,
        "{remaining} USD left of {daily}"
    );
    assert_eq!(
        gw.metric("switchyard_budget_warnings_total{budget=\"budget_usd_per_day\",scope=\"team\",team=\"warned\"}"),
        1.0
    );
    wait_written(&gw, 5);
    let (retry, message) = refusal(send(&gw, "openai", "warned-secret"), "openai");
    assert!(
        retry.abs_diff(to_day) <= 5,
        "Retry-After {retry}, the day renews in {to_day} s"
    );
    assert!(
        message.contains(&format!(
            "team `warned` has reached its daily budget (budget_usd_per_day {daily} USD)"
        )) && message.contains(&format!("it renews at {next_day}")),
        "{message}"
    );
    assert_eq!(
        gw.metric("switchyard_limit_rejections_total{limit=\"budget_usd_per_month\",scope=\"team\",team=\"spender\"}"),
        2.0
    );
    assert_eq!(send(&gw, "anthropic", "free-secret").status(), 200);
    // A key's own budget (smaller than one request) refuses that key after its first request; the other
    // key of its team is served.
    assert_eq!(send(&gw, "openai", "capped-secret").status(), 200);
    wait_written(&gw, 8);
    let (_, message) = refusal(send(&gw, "anthropic", "capped-secret"), "anthropic");
    assert!(
        message.starts_with(
            "key `capped` has reached its daily budget (budget_usd_per_day 0.000001 USD): "
        ),
        "{message}"
    );
    assert_eq!(send(&gw, "openai", "free-secret").status(), 200);
    stop(gw);

    // A restart reads both from the ledger.
    let again = start(&budgets);
    refusal(send(&again, "anthropic", "spender-secret"), "anthropic");
    let (_, message) = refusal(send(&again, "anthropic", "warned-secret"), "anthropic");
    assert!(
        message.starts_with("team `warned` has reached its daily budget"),
        "{message}"
    );
    refusal(send(&again, "openai", "capped-secret"), "openai");
    assert_eq!(send(&again, "openai", "free-secret").status(), 200);
}
