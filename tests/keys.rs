//! Per-person keys through the real binary: `switchyard keys create|list|revoke` against the
//! gateway's store (SQLite, the default), the admin API (`/admin/keys`), the keys working in both
//! API formats, per-key limits, the ledger's key id, expiry and revocation, never a key in a listing
//! or a log line; and two replicas sharing one real PostgreSQL seeing each other's changes within 5 s.

mod common;

use std::process::Output;
use std::time::{Duration, Instant};

use common::postgres::Postgres;
use common::usage::wait_written;
use common::*;
use serde_json::{json, Value};

const ADMIN_KEY: &str = "admin-key-for-keys-tests";

fn gateway_config(mock: &Mock, usage: &str) -> String {
    let providers = provider_yaml("anth", "anthropic", &mock.url(), "sk-ant-api03-keys")
        + &provider_yaml(
            "oai",
            "openai",
            &format!("{}/v1", mock.url()),
            "sk-proj-keys",
        );
    format!(
        "server:\n  threads: 2\n  grace_period_seconds: 10\nproviders:\n{providers}models:\n  - {{ name: \"claude-*\", targets: [\"anth/*\"] }}\n  - {{ name: \"gpt-*\", targets: [\"oai/*\"] }}\n{usage}admin:\n  keys: [{{ env: ADMIN_KEY, name: ops }}]\nteams:\n  - name: platform\n    keys: [{{ env: TEAM_KEY, name: platform-ci }}]\n  - name: research\n    keys: [{{ sha256: \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\" }}]\n"
    )
}

fn gateway(mock: &Mock, usage: &str) -> Gateway {
    Gateway::with_config(&gateway_config(mock, usage))
        .env("ADMIN_KEY", ADMIN_KEY)
        .start()
}

/// `switchyard keys ARGS --config <the gateway's>`.
fn keys_cli(gw: &Gateway, args: &[&str]) -> Output {
    let config = gw.config_path.to_string_lossy().to_string();
    gw.cli(&[&["keys"], args, &["--config", &config]].concat())
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Creates a key with the CLI and returns it (the one `sk-sy-` line of its output).
fn create(gw: &Gateway, args: &[&str]) -> String {
    let out = keys_cli(gw, &[&["create"], args].concat());
    assert!(out.status.success(), "keys create {args:?}: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let key = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("sk-sy-"))
        .unwrap_or_else(|| panic!("no key printed: {stdout}"))
        .to_string();
    assert_eq!(
        key.len(),
        "sk-sy-".len() + 64,
        "32 random bytes, hex: {key}"
    );
    key
}

/// One request in `format` (anthropic | openai | responses) with `key`: its status and body.
fn send(gw: &Gateway, format: &str, key: &str) -> (u16, Value) {
    let (path, body) = match format {
        "anthropic" => (
            "/v1/messages",
            json!({"model": "claude-haiku-4-5", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}),
        ),
        "responses" => ("/v1/responses", json!({"model": "gpt-5", "input": "hi"})),
        _ => (
            "/v1/chat/completions",
            json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
        ),
    };
    let r = client()
        .post(gw.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// Polls until `send` answers `status`, returning how long that took (at most `within`) and the body.
fn until_status(
    gw: &Gateway,
    format: &str,
    key: &str,
    status: u16,
    within: Duration,
) -> (Duration, Value) {
    until(gw, format, key, within, |got, _| got == status)
}

/// Polls until `send`'s answer satisfies `done`.
fn until(
    gw: &Gateway,
    format: &str,
    key: &str,
    within: Duration,
    done: impl Fn(u16, &Value) -> bool,
) -> (Duration, Value) {
    let start = Instant::now();
    loop {
        let (got, body) = send(gw, format, key);
        if done(got, &body) {
            return (start.elapsed(), body);
        }
        assert!(
            start.elapsed() < within,
            "{format} with the key still answers {got} after {:?}: {body}",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The error message in either API's error JSON.
fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

fn admin(
    gw: &Gateway,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client().request(method, format!("{}{path}", gw.admin));
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// An admin call with the admin key and no body.
fn as_admin(gw: &Gateway, method: reqwest::Method, path: &str) -> (u16, Value) {
    admin(gw, method, path, Some(ADMIN_KEY), None)
}

fn digest_hex(key: &str) -> String {
    switchyard::auth::digest(key)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn cli_keys_work_in_both_formats_are_listed_without_secrets_limited_and_revoked() {
    let mock = Mock::start(&[]);
    let gw = gateway(&mock, "usage: { flush_interval_ms: 20 }\n");
    let alice = create(
        &gw,
        &[
            "--team",
            "platform",
            "--name",
            "alice",
            "--expires",
            "90d",
            "--budget-day",
            "5",
            "--budget-month",
            "100.5",
        ],
    );
    // In force on the running gateway within 5 s (its key thread polls the store every second).
    let (took, _) = until_status(&gw, "anthropic", &alice, 200, Duration::from_secs(5));
    eprintln!("a CLI-created key worked after {took:?}");
    assert_eq!(send(&gw, "openai", &alice).0, 200);

    // Per-key rpm: the third request of the minute is refused, naming the key and the limit.
    let bob = create(&gw, &["--team", "research", "--name", "bob", "--rpm", "2"]);
    until_status(&gw, "openai", &bob, 200, Duration::from_secs(5));
    assert_eq!(send(&gw, "anthropic", &bob).0, 200);
    let (status, body) = send(&gw, "anthropic", &bob);
    assert_eq!(status, 429, "{body}");
    assert!(
        message(&body).contains("key `bob` exceeded requests_per_minute (2)"),
        "{body}"
    );
    assert_eq!(
        send(&gw, "anthropic", &alice).0,
        200,
        "alice's key has no rpm of its own"
    );

    // The ledger knows each request by its key's name and team.
    wait_written(&gw, 6);
    let by_key = gw.usage_json("team,key");
    let requests = |team: &str, key: &str| {
        by_key
            .iter()
            .find(|r| r["team"] == team && r["key"] == key)
            .and_then(|r| r["requests"].as_u64())
    };
    assert_eq!(
        (requests("platform", "alice"), requests("research", "bob")),
        (Some(3), Some(3)),
        "{by_key:?}"
    );

    // Listed with team, status, expiry, limits and last use — never the key or its digest.
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let out = keys_cli(&gw, &["list", "--format", "json"]);
        assert!(out.status.success(), "{}", text(&out));
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
        if listed["keys"]
            .as_array()
            .is_some_and(|k| k.iter().all(|k| k["last_used"].is_string()))
            || Instant::now() > deadline
        {
            break listed;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{listed}");
    assert_eq!(
        (
            keys[0]["name"].as_str(),
            keys[0]["team"].as_str(),
            keys[0]["status"].as_str()
        ),
        (Some("alice"), Some("platform"), Some("active"))
    );
    assert!(
        keys[0]["expires"].is_string()
            && keys[0]["created"].is_string()
            && keys[0]["last_used"].is_string(),
        "{listed}"
    );
    assert_eq!(
        keys[0]["limits"],
        json!({"budget_usd_per_day": "5", "budget_usd_per_month": "100.5"})
    );
    assert_eq!(keys[1]["limits"], json!({"requests_per_minute": 2}));
    let table = text(&keys_cli(&gw, &["list"]));
    assert!(
        table.contains("alice") && table.contains("requests_per_minute 2"),
        "{table}"
    );
    for secret in [&alice, &bob] {
        for shown in [&table, &listed.to_string()] {
            assert!(
                !shown.contains(secret.as_str()) && !shown.contains(&digest_hex(secret)),
                "a listing shows a key or its digest: {shown}"
            );
        }
    }

    // Clear refusals: unknown team (the configured ones named), a taken name (stored or YAML), a bad duration.
    let unknown_team = text(&keys_cli(
        &gw,
        &["create", "--team", "nope", "--name", "carol"],
    ));
    assert!(
        unknown_team.contains("no team `nope`") && unknown_team.contains("platform, research"),
        "{unknown_team}"
    );
    let taken = text(&keys_cli(
        &gw,
        &["create", "--team", "platform", "--name", "alice"],
    ));
    assert!(taken.contains("`alice` already exists"), "{taken}");
    let yaml_name = text(&keys_cli(
        &gw,
        &["create", "--team", "platform", "--name", "platform-ci"],
    ));
    assert!(
        yaml_name.contains("already the name of a team key"),
        "{yaml_name}"
    );
    let bad = keys_cli(
        &gw,
        &[
            "create",
            "--team",
            "platform",
            "--name",
            "carol",
            "--expires",
            "soon",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad).contains("`soon` is not a duration"),
        "{}",
        text(&bad)
    );

    // A key that expires is refused with a message that says so, in each format.
    let brief = create(
        &gw,
        &["--team", "platform", "--name", "carol", "--expires", "2s"],
    );
    let (_, body) = until(
        &gw,
        "anthropic",
        &brief,
        Duration::from_secs(8),
        |status, body| status == 401 && message(body).contains("expired"),
    );
    assert_eq!(body["type"], "error", "Anthropic error shape: {body}");
    assert!(
        message(&body).contains("key `carol` expired at 20"),
        "{body}"
    );
    let (_, body) = until_status(&gw, "openai", &brief, 401, Duration::from_secs(1));
    assert!(
        message(&body).contains("expired at") && body["error"]["code"].is_string(),
        "OpenAI error shape: {body}"
    );
    let (status, body) = send(&gw, "responses", &brief);
    assert!(
        status == 401 && message(&body).contains("key `carol` expired at"),
        "Responses: {status} {body}"
    );

    // Revoked: refused like an unknown key, within 5 s.
    let out = keys_cli(&gw, &["revoke", "alice"]);
    assert!(out.status.success(), "{}", text(&out));
    let (took, body) = until_status(&gw, "anthropic", &alice, 401, Duration::from_secs(5));
    eprintln!("a CLI-revoked key was refused after {took:?}");
    assert!(message(&body).contains("unknown team key"), "{body}");
    assert!(text(&keys_cli(&gw, &["revoke", "alice"])).contains("no active key named `alice`"));
    assert!(text(&keys_cli(&gw, &["list"])).contains("revoked"));
    assert_eq!(
        send(&gw, "anthropic", TEAM_KEY).0,
        200,
        "YAML team keys keep working"
    );

    let logs = gw.process.stdout.text() + &gw.process.stderr.text();
    for secret in [&alice, &bob, &brief] {
        assert!(
            !logs.contains(secret.as_str()),
            "a key in the gateway's log"
        );
    }
}

#[test]
fn admin_api_creates_lists_and_revokes_keys_with_an_admin_key_only() {
    let mock = Mock::start(&[]);
    let gw = gateway(&mock, "");
    let post = |key: Option<&str>, body: Value| {
        admin(&gw, reqwest::Method::POST, "/admin/keys", key, Some(body))
    };
    let dana = json!({"team": "platform", "name": "dana", "expires": "30d", "limits": {"requests_per_minute": 100, "budget_usd_per_month": 20}});

    assert_eq!(post(None, dana.clone()).0, 401);
    assert_eq!(post(Some("not-an-admin-key"), dana.clone()).0, 401);
    assert_eq!(
        post(Some(TEAM_KEY), dana.clone()).0,
        403,
        "a team key opens no admin endpoint"
    );
    assert_eq!(
        admin(&gw, reqwest::Method::GET, "/admin/keys", None, None).0,
        401
    );
    assert_eq!(
        admin(&gw, reqwest::Method::DELETE, "/admin/keys/dana", None, None).0,
        401
    );

    let (status, created) = post(Some(ADMIN_KEY), dana.clone());
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    assert!(
        key.starts_with("sk-sy-")
            && created["team"] == "platform"
            && created["limits"]["requests_per_minute"] == 100,
        "{created}"
    );
    // This replica rebuilt its keys before answering: the key works at once.
    assert_eq!(send(&gw, "openai", &key).0, 200);
    assert_eq!(
        post(Some(ADMIN_KEY), dana.clone()).0,
        409,
        "the name is taken"
    );
    let (status, body) = post(Some(ADMIN_KEY), json!({"team": "nope", "name": "erin"}));
    assert!(
        status == 400 && message(&body).contains("platform, research"),
        "{status} {body}"
    );
    let (status, body) = post(
        Some(ADMIN_KEY),
        json!({"team": "platform", "name": "erin", "expires": "1y"}),
    );
    assert!(
        status == 400 && message(&body).contains("not a duration"),
        "{status} {body}"
    );
    assert_eq!(post(Some(ADMIN_KEY), json!({"team": "platform"})).0, 400);
    assert_eq!(
        post(
            Some(ADMIN_KEY),
            json!({"team": "platform", "name": "has space"})
        )
        .0,
        400
    );

    let (status, listed) = as_admin(&gw, reqwest::Method::GET, "/admin/keys");
    assert_eq!(status, 200);
    assert_eq!(listed["keys"][0]["name"], "dana");
    assert_eq!(listed["keys"][0]["limits"]["budget_usd_per_month"], "20");
    assert!(
        !listed.to_string().contains(&key) && !listed.to_string().contains(&digest_hex(&key)),
        "{listed}"
    );

    let (status, _) = as_admin(&gw, reqwest::Method::DELETE, "/admin/keys/dana");
    assert_eq!(status, 200);
    let (status, body) = send(&gw, "anthropic", &key);
    assert!(
        status == 401 && message(&body).contains("unknown team key"),
        "revoked at once on this replica: {status} {body}"
    );
    assert_eq!(
        as_admin(&gw, reqwest::Method::DELETE, "/admin/keys/dana").0,
        404
    );
    // A name with `@` comes percent-encoded in the path, and is decoded (not read as a query string).
    let erin = json!({"team": "platform", "name": "erin@laptop"});
    assert_eq!(post(Some(ADMIN_KEY), erin).0, 201);
    assert_eq!(
        as_admin(&gw, reqwest::Method::DELETE, "/admin/keys/erin=laptop").0,
        404
    );
    assert_eq!(
        as_admin(&gw, reqwest::Method::DELETE, "/admin/keys/erin%40laptop").0,
        200
    );
    assert!(
        !(gw.process.stdout.text() + &gw.process.stderr.text()).contains(&key),
        "the key in the gateway's log"
    );
}

#[test]
fn without_a_store_key_commands_say_how_to_configure_one() {
    let mock = Mock::start(&[]);
    let gw = gateway(&mock, "usage: { store: none }\n");
    let out = keys_cli(&gw, &["create", "--team", "platform", "--name", "alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("usage.store: none") && text(&out).contains("postgres://"),
        "{}",
        text(&out)
    );
    assert!(text(&keys_cli(&gw, &["list"])).contains("keeps none"));
    let (status, body) = admin(
        &gw,
        reqwest::Method::POST,
        "/admin/keys",
        Some(ADMIN_KEY),
        Some(json!({"team": "platform", "name": "alice"})),
    );
    assert!(
        status == 409 && message(&body).contains("usage.store"),
        "{status} {body}"
    );
    assert_eq!(send(&gw, "anthropic", TEAM_KEY).0, 200);
}

#[test]
fn two_replicas_sharing_postgres_see_a_key_created_and_revoked_on_the_other_within_5_seconds() {
    let Some(pg) = Postgres::start() else { return };
    let mock = Mock::start(&[]);
    let text = gateway_config(&mock, &format!("usage:\n  store: \"{}\"\n", pg.url()));
    let start = |text: &str| {
        Gateway::with_config(text)
            .env("ADMIN_KEY", ADMIN_KEY)
            .start()
    };
    let (a, b) = (start(&text), start(&text));

    let (status, created) = admin(
        &a,
        reqwest::Method::POST,
        "/admin/keys",
        Some(ADMIN_KEY),
        Some(json!({"team": "research", "name": "frank"})),
    );
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    let (took, _) = until_status(&b, "anthropic", &key, 200, Duration::from_secs(5));
    eprintln!("created on A, working on B after {took:?}");
    assert!(took <= Duration::from_secs(5));
    assert_eq!(send(&a, "openai", &key).0, 200);

    assert_eq!(
        as_admin(&a, reqwest::Method::DELETE, "/admin/keys/frank").0,
        200
    );
    let (took, _) = until_status(&b, "openai", &key, 401, Duration::from_secs(5));
    eprintln!("revoked on A, refused on B after {took:?}");
    assert!(took <= Duration::from_secs(5));
    let (_, listed) = as_admin(&b, reqwest::Method::GET, "/admin/keys");
    assert_eq!(listed["keys"][0]["status"], "revoked", "{listed}");
}

#[test]
fn a_person_keys_own_budget_blocks_that_key_only() {
    let mock = Mock::start(&[]);
    let gw = gateway(&mock, "");
    let carol = create(
        &gw,
        &["--team", "platform", "--name", "carol", "--budget-day", "0.000001"],
    );
    let dave = create(&gw, &["--team", "platform", "--name", "dave"]);
    // The first request is admitted (nothing spent yet) and its cost is charged when it ends.
    until_status(&gw, "anthropic", &carol, 200, Duration::from_secs(5));
    until_status(&gw, "openai", &carol, 429, Duration::from_secs(5));
    let (status, body) = send(&gw, "anthropic", &carol);
    assert_eq!(status, 429, "{body}");
    assert!(
        message(&body).starts_with("key `carol` has reached its daily budget (budget_usd_per_day 0.000001 USD)"),
        "{body}"
    );
    assert_eq!(send(&gw, "anthropic", &dave).0, 200, "the team's other key is not blocked");
}
