//! Provider key pools through the real binary: a rate-limited key rests for exactly its
//! Retry-After while the others carry the traffic; a refused key is disabled; conversations
//! stick to one key (prompt-cache affinity); when every key rests, 429 with Retry-After.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const KEYS: [&str; 3] = ["sk-ant-api03-key-zero", "sk-ant-api03-key-one", "sk-ant-api03-key-two"];

fn setup(mock_args: &[&str], pool_yaml: &str, models: &str) -> (Mock, Gateway) {
    let mock = Mock::start(mock_args);
    let providers = format!(
        "  anthropic:\n    kind: anthropic\n    base_url: \"{}\"\n    keys: [\"{}\", \"{}\", \"{}\"]\n{pool_yaml}",
        mock.url(),
        KEYS[0],
        KEYS[1],
        KEYS[2]
    );
    let gw = Gateway::with_config(&config(&providers, models)).start();
    (mock, gw)
}

fn send(gw: &Gateway, user: Option<&str>) -> reqwest::blocking::Response {
    let mut body = json!({"model":"anthropic/claude-haiku-4-5","max_tokens":5,"system":"You are a careful assistant.","messages":[{"role":"user","content":"hi"}]});
    if let Some(user) = user {
        body["metadata"] = json!({"user_id": user});
    }
    client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&body).send().unwrap()
}

fn keys_used(mock: &Mock) -> Vec<String> {
    mock.received().iter().filter_map(|r| recorded_header(r, "x-api-key").map(str::to_string)).collect()
}

#[test]
fn a_rate_limited_key_rests_for_exactly_its_retry_after() {
    let (mock, gw) = setup(&["--key-fault", &format!("{}=rate_limit:2", KEYS[1])], "", "");
    let mut limited_at = None;
    for _ in 0..12 {
        let r = send(&gw, None);
        assert_eq!(r.status(), 200, "another key takes over the 429'd request");
        if limited_at.is_none() && keys_used(&mock).contains(&KEYS[1].to_string()) {
            limited_at = Some(Instant::now());
        }
    }
    let limited_at = limited_at.expect("round robin reached the limited key");
    assert!(limited_at.elapsed() < Duration::from_millis(1800), "test too slow to observe the rest");
    let used = keys_used(&mock);
    assert_eq!(used.iter().filter(|k| *k == KEYS[1]).count(), 1, "the key rested after its 429: {used:?}");
    assert!(used.iter().filter(|k| *k == KEYS[0]).count() >= 5 && used.iter().filter(|k| *k == KEYS[2]).count() >= 5, "{used:?}");
    assert_eq!(gw.metric("switchyard_key_state_changes_total{change=\"cooldown\",key=\"1\",provider=\"anthropic\"}"), 1.0);

    while limited_at.elapsed() < Duration::from_millis(2100) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for _ in 0..6 {
        send(&gw, None);
    }
    let used = keys_used(&mock);
    assert_eq!(used.iter().filter(|k| *k == KEYS[1]).count(), 2, "back in rotation after 2 s: {used:?}");
    assert!(!gw.process.stderr.text().contains(KEYS[1]), "logs name key indexes, never keys");
}

#[test]
fn a_refused_key_is_disabled_and_its_request_served_by_another() {
    let (mock, gw) = setup(&["--key-fault", &format!("{}=unauthorized", KEYS[0])], "", "");
    for _ in 0..9 {
        assert_eq!(send(&gw, None).status(), 200);
    }
    let used = keys_used(&mock);
    assert_eq!(used.iter().filter(|k| *k == KEYS[0]).count(), 1, "{used:?}");
    assert_eq!(gw.metric("switchyard_key_state_changes_total{change=\"disabled\",key=\"0\",provider=\"anthropic\"}"), 1.0);
    assert!(gw.process.stderr.text().contains("key #0: refused by the provider"));
}

#[test]
fn a_conversation_keeps_its_key_and_conversations_spread() {
    let (mock, gw) = setup(&[], "", "");
    for _ in 0..6 {
        send(&gw, Some("conversation-alpha"));
    }
    let used = keys_used(&mock);
    assert!(used.iter().all(|k| k == &used[0]), "one conversation, one key (warm prompt cache): {used:?}");
    let before = used.len();
    for n in 0..12 {
        send(&gw, Some(&format!("conversation-{n}")));
    }
    let spread: std::collections::HashSet<String> = keys_used(&mock).into_iter().skip(before).collect();
    assert!(spread.len() >= 2, "different conversations use different keys: {spread:?}");
}

#[test]
fn a_resting_conversation_key_hands_over_and_comes_back() {
    // Find alpha's key, then make exactly that key rate-limited in a second gateway run.
    let (mock, gw) = setup(&[], "", "");
    send(&gw, Some("conversation-alpha"));
    let home = keys_used(&mock)[0].clone();
    drop(gw);
    let (mock, gw) = setup(&["--key-fault", &format!("{home}=rate_limit:1")], "", "");
    assert_eq!(send(&gw, Some("conversation-alpha")).status(), 200);
    assert_eq!(send(&gw, Some("conversation-alpha")).status(), 200);
    let used = keys_used(&mock);
    assert_eq!(used[0], home);
    assert_ne!(used[1], home, "served by the next key while home rests");
    assert_eq!(used[2], used[1], "the stand-in stays stable while home rests");
}

#[test]
fn when_every_key_rests_the_client_gets_429_with_retry_after() {
    let faults: Vec<String> = KEYS.iter().map(|k| format!("{k}=rate_limit:30")).collect();
    let args: Vec<&str> = faults.iter().flat_map(|f| ["--key-fault", f.as_str()]).collect();
    let (_mock, gw) = setup(&args, "", "");
    let r = send(&gw, None);
    assert_eq!(r.status(), 429, "the last key's own 429 is passed on");
    let r = send(&gw, None);
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((25..=30).contains(&retry), "{retry}");
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("resting"));
}

#[test]
fn provider_groups_balance_accounts_keep_conversations_and_fail_over() {
    let (a, b, down) = (Mock::start(&[]), Mock::start(&[]), Mock::start(&["--fault", "status:503"]));
    let providers = format!(
        "{}{}{}",
        provider_yaml("acct-a", "anthropic", &a.url(), "sk-ant-api03-account-a"),
        provider_yaml("acct-b", "anthropic", &b.url(), "sk-ant-api03-account-b"),
        provider_yaml("acct-down", "anthropic", &down.url(), "sk-ant-api03-account-down"),
    );
    let text = format!(
        "{}groups:\n  accounts: {{ members: [acct-a, acct-b] }}\n  flaky: {{ members: [acct-down, acct-a] }}\n",
        config(&providers, "  - { name: \"claude-*\", targets: [\"accounts/*\"] }\n")
    );
    let gw = Gateway::with_config(&text).start();
    let ask = |model: &str, user: Option<&str>| {
        let mut body = json!({"model": model, "max_tokens": 5, "messages": [{"role":"user","content":"x"}]});
        if let Some(u) = user {
            body["metadata"] = json!({"user_id": u});
        }
        client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&body).send().unwrap()
    };
    for _ in 0..6 {
        assert_eq!(ask("claude-haiku-4-5", None).status(), 200);
    }
    assert_eq!((a.received().len(), b.received().len()), (3, 3), "round robin over the accounts");
    let targets: Vec<String> = (0..4).map(|_| ask("claude-haiku-4-5", Some("conversation-9")).headers()["x-switchyard-target"].to_str().unwrap().to_string()).collect();
    assert!(targets.iter().all(|t| t == &targets[0]), "a conversation stays on one account: {targets:?}");
    for _ in 0..4 {
        let r = ask("flaky/claude-haiku-4-5", None);
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-switchyard-target"], "acct-a/claude-haiku-4-5");
    }
}
