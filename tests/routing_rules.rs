//! Routing rules through the real binary: real Claude Code captures and SDK-shaped requests land on
//! the mock provider their rule names, every response says which rule routed it, a conversation
//! keeps its side of a split, a failing cheap model falls back to Claude, `provider/model` and a
//! team without rules are left alone; and the shipped policy passes `switchyard check`.

mod common;

use std::process::Command;

use common::*;
use serde_json::{json, Value};
use switchyard::rules::{Choice, Split};

const CLAUDE_KEY: &str = "sk-ant-api03-claude-key";
const CHEAP_KEY: &str = "sk-or-v1-cheap-key";
const MID_KEY: &str = "sk-mid-key";
const NO_RULES_KEY: &str = "team-without-rules-key";

/// Three providers, each its own mock; the rules of a small Claude Code policy.
struct Setup {
    claude: Mock,
    cheap: Mock,
    mid: Mock,
    gw: Gateway,
}

fn rules_config(claude: &Mock, cheap: &Mock, mid: &Mock) -> String {
    format!(
        r#"server: {{ threads: 1, grace_period_seconds: 10 }}
providers:
{}{}{}models:
  - {{ name: claude, targets: ["anthropic/*"] }}
  - {{ name: fast, targets: ["openrouter/z-ai/glm-4.5-air", "anthropic/claude-haiku-4-5"] }}
  - {{ name: glm, targets: ["openrouter/z-ai/glm-4.6", "anthropic/*"] }}
  - {{ name: qwen, targets: ["mid/qwen3-coder-plus", "anthropic/*"] }}
  - {{ name: long, targets: ["mid/qwen3-coder-plus-1m", "anthropic/claude-sonnet-4-5"] }}
  - {{ name: "claude-*", targets: ["anthropic/*"] }}
rules:
  - {{ name: hint-cheap, when: {{ headers: {{ x-switchyard-route-hint: cheap }} }}, model: glm }}
  - {{ name: background, when: {{ model: "claude-haiku-*", tools: false }}, model: fast }}
  - {{ name: long-context, when: {{ input_tokens: {{ over: 30000 }} }}, model: long }}
  - {{ name: thinking, when: {{ model: "claude-*", thinking: enabled }}, model: claude }}
  - {{ name: images, when: {{ images: true }}, model: claude }}
  - {{ name: web, when: {{ tool: "web_search*", format: [openai, responses] }}, model: claude }}
  - name: coding
    when: {{ model: "claude-*" }}
    split: [{{ model: glm, weight: 50 }}, {{ model: qwen, weight: 50 }}]
teams:
  - name: coders
    keys: [{{ env: TEAM_KEY }}]
  - name: purists
    keys: [{{ env: NO_RULES_KEY }}]
    rules: false
"#,
        provider_yaml("anthropic", "anthropic", &claude.url(), CLAUDE_KEY),
        provider_yaml("openrouter", "openai", &format!("{}/v1", cheap.url()), CHEAP_KEY),
        provider_yaml("mid", "openai", &format!("{}/v1", mid.url()), MID_KEY),
    )
}

fn setup_with(cheap_args: &[&str]) -> Setup {
    let (claude, cheap, mid) = (Mock::start(&[]), Mock::start(cheap_args), Mock::start(&[]));
    let gw = Gateway::with_config(&rules_config(&claude, &cheap, &mid)).env("NO_RULES_KEY", NO_RULES_KEY).start();
    Setup { claude, cheap, mid, gw }
}

/// Sends a captured Claude Code request as Claude Code did (its headers, its path), with `key`.
fn send_capture(gw: &Gateway, name: &str, key: &str) -> reqwest::blocking::Response {
    let capture = fixture(name);
    let body = serde_json::to_vec(&capture["body"]).unwrap();
    let mut req = client().post(gw.url(capture["path"].as_str().unwrap()));
    for (k, v) in capture["headers"].as_object().unwrap() {
        if !["content-length", "connection", "accept-encoding", "x-api-key", "authorization"].contains(&k.to_ascii_lowercase().as_str()) {
            req = req.header(k.as_str(), v.as_str().unwrap());
        }
    }
    req.header("x-api-key", key).body(body).send().unwrap()
}

fn header(r: &reqwest::blocking::Response, name: &str) -> String {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// The model each mock was asked for, in order.
fn models(mock: &Mock) -> Vec<String> {
    mock.received()
        .iter()
        .map(|r| serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap()["model"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The session id Claude Code put in a capture's `metadata.user_id`.
fn session_of(name: &str) -> String {
    let user_id: Value = serde_json::from_str(fixture(name)["body"]["metadata"]["user_id"].as_str().unwrap()).unwrap();
    user_id["session_id"].as_str().unwrap().to_string()
}

#[test]
fn claude_code_captures_land_where_their_rules_say() {
    let s = setup_with(&[]);
    // Both turns of one session: the split's choice for that session id, twice.
    let split = Split { choices: vec![Choice::new("glm", 50), Choice::new("qwen", 50)] };
    let chosen = split.choose(session_of("01-opus-stream-first-turn.json").as_bytes()).model.clone();
    let expected_target = if chosen == "glm" { "openrouter/z-ai/glm-4.6" } else { "mid/qwen3-coder-plus" };
    for name in ["01-opus-stream-first-turn.json", "02-opus-stream-tool-result-turn.json"] {
        let r = send_capture(&s.gw, name, TEAM_KEY);
        assert_eq!(r.status(), 200, "{name}");
        assert_eq!(header(&r, "x-switchyard-route"), "coding", "{name}");
        assert_eq!(header(&r, "x-switchyard-target"), expected_target, "{name}");
        let events = sse_events(&r.text().unwrap());
        assert_eq!(events.last().map(|(e, _)| e.as_str()), Some("message_stop"), "{name}: translated back to Anthropic SSE");
    }
    let (on_split, other) = if chosen == "glm" { (&s.cheap, &s.mid) } else { (&s.mid, &s.cheap) };
    assert_eq!(models(on_split).len(), 2, "the conversation stayed on one side of the split");
    assert!(models(other).is_empty());

    // The user picked a model with /model: honoured, rules not consulted.
    let r = send_capture(&s.gw, "03-bearer-custom-model.json", TEAM_KEY);
    assert_eq!((r.status().as_u16(), header(&r, "x-switchyard-route"), header(&r, "x-switchyard-target")), (200, "explicit".into(), "openrouter/z-ai/glm-4.5-air".into()));

    // Haiku with a thinking budget (and tools: not a background call) goes to Claude, as asked.
    let r = send_capture(&s.gw, "04-haiku-thinking-enabled.json", TEAM_KEY);
    assert_eq!((r.status().as_u16(), header(&r, "x-switchyard-route"), header(&r, "x-switchyard-target")), (200, "thinking".into(), "anthropic/claude-haiku-4-5".into()));
    assert_eq!(models(&s.claude), ["claude-haiku-4-5"]);
}

#[test]
fn sdk_requests_land_where_their_rules_say() {
    let s = setup_with(&[]);
    let anthropic = |body: Value, extra: &[(&str, &str)]| {
        let mut req = client().post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).header("anthropic-version", "2023-06-01");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req.json(&body).send().unwrap()
    };
    let openai = |body: Value| client().post(s.gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&body).send().unwrap();
    let route = |r: &reqwest::blocking::Response| (r.status().as_u16(), header(r, "x-switchyard-route"), header(r, "x-switchyard-target"));

    // A background call: Claude Code's small model without tools.
    let title = json!({"model": "claude-haiku-4-5", "max_tokens": 512, "messages": [{"role": "user", "content": "Is this a new topic? fix the login bug"}]});
    assert_eq!(route(&anthropic(title.clone(), &[])), (200, "background".into(), "openrouter/z-ai/glm-4.5-air".into()));
    // The client's hint wins over the background rule, and is not passed on to the provider.
    assert_eq!(route(&anthropic(title, &[("x-switchyard-route-hint", "cheap")])), (200, "hint-cheap".into(), "openrouter/z-ai/glm-4.6".into()));
    let hinted = s.cheap.received().pop().unwrap();
    assert_eq!(recorded_header(&hinted, "x-switchyard-route-hint"), None);

    // A long context, by the estimate (over 30,000 tokens ≈ 120 KB).
    let big = json!({"model": "claude-opus-4-5", "max_tokens": 1024, "messages": [{"role": "user", "content": "x ".repeat(70_000)}]});
    assert_eq!(route(&anthropic(big, &[])), (200, "long-context".into(), "mid/qwen3-coder-plus-1m".into()));

    // An OpenAI SDK request with an image goes to Claude, translated; the Claude it asked for.
    let image = json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}}
    ]}]});
    let r = openai(image);
    assert_eq!(route(&r), (200, "images".into(), "anthropic/claude-sonnet-4-5".into()));
    assert_eq!(r.json::<Value>().unwrap()["object"], "chat.completion");
    // A named tool on offer, for an OpenAI client.
    let web = json!({"model": "gpt-5", "messages": [{"role": "user", "content": "news?"}], "tools": [{"type": "function", "function": {"name": "web_search_preview", "parameters": {"type": "object"}}}]});
    assert_eq!(route(&openai(web)).1, "web");
    // Codex CLI's Responses API, with its hosted web search: the same rule, translated for Anthropic.
    let codex = json!({"model": "gpt-5-codex", "input": "what changed in the release?", "tools": [{"type": "web_search"}], "reasoning": {"summary": "auto"}});
    let r = client().post(s.gw.url("/v1/responses")).bearer_auth(TEAM_KEY).json(&codex).send().unwrap();
    assert_eq!(route(&r), (200, "web".into(), "anthropic/gpt-5-codex".into()));
    assert_eq!(r.json::<Value>().unwrap()["object"], "response");
    // A name no rule matches routes by its own name — here nothing serves it: 404, still explained.
    let unknown = openai(json!({"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!((unknown.status().as_u16(), header(&unknown, "x-switchyard-route")), (404, String::new()));
    assert_eq!(models(&s.claude), ["claude-sonnet-4-5", "gpt-5", "gpt-5-codex"]);
}

#[test]
fn a_team_without_rules_gets_the_model_it_asked_for() {
    let s = setup_with(&[]);
    let r = send_capture(&s.gw, "01-opus-stream-first-turn.json", NO_RULES_KEY);
    assert_eq!((r.status().as_u16(), header(&r, "x-switchyard-route"), header(&r, "x-switchyard-target")), (200, "default".into(), "anthropic/claude-opus-5-5".into()));
    assert!(s.cheap.received().is_empty() && s.mid.received().is_empty());
}

#[test]
fn a_failing_cheap_model_falls_back_to_claude() {
    let s = setup_with(&["--fault", "status:503"]);
    let title = json!({"model": "claude-haiku-4-5", "max_tokens": 512, "messages": [{"role": "user", "content": "title?"}]});
    let r = client().post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&title).send().unwrap();
    assert_eq!((r.status().as_u16(), header(&r, "x-switchyard-route"), header(&r, "x-switchyard-target")), (200, "background".into(), "anthropic/claude-haiku-4-5".into()));
    assert_eq!(models(&s.cheap), ["z-ai/glm-4.5-air"], "the cheap model was tried first");
    // With no target left, the provider's failure reaches the client — and still says how it was routed.
    let explicit = json!({"model": "openrouter/z-ai/glm-4.6", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]});
    let r = client().post(s.gw.url("/v1/messages")).header("x-api-key", TEAM_KEY).json(&explicit).send().unwrap();
    assert!(r.status().is_server_error(), "{}", r.status());
    assert_eq!(header(&r, "x-switchyard-route"), "explicit");
    assert_eq!(models(&s.claude), ["claude-haiku-4-5"]);
    assert!(s.mid.received().is_empty());
}

/// The usage ledger records the rule `x-switchyard-route` named, and groups by it: in
/// `switchyard usage --by rule` and in `GET /admin/usage?by=rule`.
#[test]
fn the_ledger_groups_requests_by_the_rule_that_routed_them() {
    const ADMIN_KEY: &str = "admin-key-for-rules-7a1c";
    let (claude, cheap, mid) = (Mock::start(&[]), Mock::start(&[]), Mock::start(&[]));
    let config = format!("{}usage: {{ flush_interval_ms: 100 }}\nadmin:\n  keys: [{{ env: ADMIN_KEY }}]\n", rules_config(&claude, &cheap, &mid));
    let gw = Gateway::with_config(&config).env("NO_RULES_KEY", NO_RULES_KEY).env("ADMIN_KEY", ADMIN_KEY).start();
    let title = json!({"model": "claude-haiku-4-5", "max_tokens": 512, "messages": [{"role": "user", "content": "title?"}]});
    let anthropic = |hint: Option<&str>| {
        let mut req = client().post(gw.url("/v1/messages")).header("x-api-key", TEAM_KEY);
        if let Some(hint) = hint {
            req = req.header("x-switchyard-route-hint", hint);
        }
        req.json(&title).send().unwrap()
    };
    let mut sent: Vec<(u16, String)> = Vec::new();
    let mut note = |r: reqwest::blocking::Response| sent.push((r.status().as_u16(), header(&r, "x-switchyard-route")));
    note(send_capture(&gw, "01-opus-stream-first-turn.json", TEAM_KEY));
    note(send_capture(&gw, "02-opus-stream-tool-result-turn.json", TEAM_KEY));
    note(anthropic(None));
    note(anthropic(Some("cheap")));
    note(send_capture(&gw, "03-bearer-custom-model.json", TEAM_KEY));
    note(send_capture(&gw, "01-opus-stream-first-turn.json", NO_RULES_KEY));
    // Nothing serves this name: refused before any rule or route applied, so no rule is recorded.
    note(client().post(gw.url("/v1/chat/completions")).bearer_auth(TEAM_KEY).json(&json!({"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}]})).send().unwrap());
    let routes: Vec<(u16, &str)> = sent.iter().map(|(s, r)| (*s, r.as_str())).collect();
    assert_eq!(routes, [(200, "coding"), (200, "coding"), (200, "background"), (200, "hint-cheap"), (200, "explicit"), (200, "default"), (404, "")]);
    common::usage::wait_written(&gw, sent.len());

    let by_rule = gw.usage_json("rule,team,provider");
    let row = |rule: &str| {
        by_rule.iter().find(|r| r["rule"] == rule).unwrap_or_else(|| panic!("no row for rule `{rule}`: {by_rule:?}"))
    };
    let coding_provider = if mid.received().is_empty() { "openrouter" } else { "mid" };
    for (rule, team, provider, requests) in [
        ("coding", "coders", coding_provider, 2),
        ("background", "coders", "openrouter", 1),
        ("hint-cheap", "coders", "openrouter", 1),
        ("explicit", "coders", "openrouter", 1),
        ("default", "purists", "anthropic", 1),
        ("", "coders", "", 1),
    ] {
        let r = row(rule);
        assert_eq!((r["team"].as_str(), r["provider"].as_str(), r["requests"].as_u64()), (Some(team), Some(provider), Some(requests)), "{rule}: {r}");
        if !provider.is_empty() {
            assert!(r["input_tokens"].as_u64() > Some(0) && !r["cost_usd"].is_null(), "{rule}: {r}");
        }
    }
    assert_eq!(by_rule.len(), 6, "{by_rule:?}");
    // The same grouping over HTTP.
    let over_http: Vec<Value> = client().get(format!("{}/admin/usage?by=rule,team,provider", gw.admin)).header("x-api-key", ADMIN_KEY).send().unwrap().json().unwrap();
    assert_eq!(over_http, by_rule);
    assert!(gw.usage_cli(&["--by", "rule"]).lines().next().unwrap_or_default().starts_with("rule "), "the table's first column is the rule");
}

fn switchyard(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

const POLICY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/claude-code-team.yaml");
const KEYS: [(&str, &str); 3] = [("ANTHROPIC_API_KEY", "sk-ant-test"), ("OPENROUTER_API_KEY", "sk-or-test"), ("SWITCHYARD_TEAM_KEY", "team-key")];

#[test]
fn the_shipped_policy_passes_check() {
    let out = switchyard(&["check", "--config", POLICY], &KEYS);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("rules: 7 in order"), "{stdout}");
    assert!(stdout.contains("rule coding: model claude-* -> split glm 60, qwen 20, claude 20"), "{stdout}");
    assert!(!stdout.contains("skipped"), "{stdout}");
}

#[test]
fn check_refuses_an_impossible_rule_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(POLICY).unwrap().replace("input_tokens: { over: 150000 }", "input_tokens: { over: 150000, under: 1000 }");
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, text).unwrap();
    let out = switchyard(&["check", "--config", path.to_str().unwrap()], &KEYS);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rules[3].when.input_tokens: no whole number is over 150000 and under 1000"), "{stderr}");
}

/// `switchyard route` on the captures with the shipped policy, against the files in
/// tests/golden/route/ (`UPDATE_GOLDEN=1` rewrites them after a deliberate change).
#[test]
fn route_explains_the_captures_as_the_golden_files_say() {
    let cases: [(&str, &[&str], &str); 6] = [
        ("01-opus-stream-first-turn.json", &[], "01-opus-first-turn.txt"),
        ("02-opus-stream-tool-result-turn.json", &["--format", "json"], "02-opus-tool-result-turn.json"),
        ("03-bearer-custom-model.json", &[], "03-explicit-provider-model.txt"),
        ("04-haiku-thinking-enabled.json", &[], "04-haiku-thinking.txt"),
        ("04-haiku-thinking-enabled.json", &["--format", "json"], "04-haiku-thinking.json"),
        ("01-opus-stream-first-turn.json", &["--header", "X-Switchyard-Route-Hint: cheap"], "01-opus-hint-cheap.txt"),
    ];
    let golden_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/route");
    for (capture, extra, golden) in cases {
        let capture_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-code").join(capture);
        let mut args = vec!["route", "--config", POLICY, capture_path.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = switchyard(&args, &KEYS);
        assert!(out.status.success(), "{capture}: {}", String::from_utf8_lossy(&out.stderr));
        let got = String::from_utf8(out.stdout).unwrap();
        let path = golden_dir.join(golden);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(&golden_dir).unwrap();
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
        assert_eq!(got, want, "{golden}");
        if golden.ends_with(".json") {
            let v: Value = serde_json::from_str(&got).unwrap();
            for key in ["rule", "model", "targets", "facts"] {
                assert!(v.get(key).is_some(), "{golden}: no `{key}`");
            }
        }
    }
}

#[test]
fn route_reads_a_bare_body_and_refuses_what_the_gateway_would() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, r#"{ "model": "gpt-4o", "messages": [ { "role": "user", "content": "hi" } ] }"#).unwrap();
    let out = switchyard(&["route", "--config", POLICY, body.to_str().unwrap(), "--path", "/v1/chat/completions", "--format", "json"], &KEYS);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the gateway answers 404: model `gpt-4o` is not served"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&body, r#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}],"max_tokens":100}"#).unwrap();
    let out = switchyard(&["route", "--config", POLICY, body.to_str().unwrap(), "--format", "json"], &KEYS);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rule"], "coding");
    assert_eq!(v["facts"]["conversation_key"]["source"], "system prompt + first message");
    assert_eq!(v["facts"]["endpoint"], "messages");
    let out = switchyard(&["route", "--config", POLICY, body.to_str().unwrap(), "--team", "nobody"], &KEYS);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no team `nobody`"));
}
