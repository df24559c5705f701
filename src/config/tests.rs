//! Config tests: each error message is checked, and the embedded default is loaded under the
//! environments a newcomer is likely to have.

use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const MINIMAL: &str = "
providers:
  up: { kind: openai, base_url: 'http://127.0.0.1:1/v1', enabled: true }
models:
  - { name: m, targets: [up/x] }
teams:
  - { name: t, keys: [{ env: TEAM_KEY }] }
";

fn parse_err(text: &str, e: &[(&str, &str)]) -> ConfigError {
    parse(text, "test.yaml", &env(e)).unwrap_err()
}

#[test]
fn minimal_config_loads() {
    let c = parse(MINIMAL, "test.yaml", &env(&[("TEAM_KEY", "k")])).unwrap();
    assert_eq!(c.listen.proxy, "127.0.0.1:8317");
    assert_eq!(c.listen.admin, "127.0.0.1:9317");
    assert_eq!(c.providers.len(), 1);
    assert_eq!(c.limits.max_body_bytes, 32 * 1024 * 1024);
    assert_eq!(c.teams.authenticate("k").unwrap().name, "t");
}

#[test]
fn typo_in_a_field_name_names_the_field_and_the_valid_ones() {
    let e = parse_err(
        &MINIMAL.replace("base_url", "base_ur1"),
        &[("TEAM_KEY", "k")],
    );
    assert_eq!(e.file, "test.yaml");
    assert_eq!(e.path, "providers.up.base_ur1");
    assert!(
        e.message.contains("unknown field `base_ur1`"),
        "{}",
        e.message
    );
    assert!(e.message.contains("base_url"), "{}", e.message);
    assert!(
        e.to_string()
            .starts_with("test.yaml: providers.up.base_ur1: unknown field"),
        "{e}"
    );
}

#[test]
fn top_level_typo() {
    let e = parse_err(&format!("{MINIMAL}\nmodel: []\n"), &[("TEAM_KEY", "k")]);
    assert!(e.message.contains("unknown field `model`"), "{}", e.message);
    assert!(e.message.contains("models"), "{}", e.message);
}

#[test]
fn unset_variable_names_the_field() {
    let e = parse_err(
        &MINIMAL.replace("'http://127.0.0.1:1/v1'", "'${UPSTREAM_URL}'"),
        &[("TEAM_KEY", "k")],
    );
    assert_eq!(e.path, "providers.up.base_url");
    assert!(
        e.message.contains("UPSTREAM_URL is not set"),
        "{}",
        e.message
    );
}

#[test]
fn wrong_type_names_the_field() {
    let e = parse_err(
        &format!("{MINIMAL}\nlimits: {{ max_body_bytes: lots }}\n"),
        &[("TEAM_KEY", "k")],
    );
    assert_eq!(e.path, "limits.max_body_bytes");
    assert!(e.message.contains("invalid type"), "{}", e.message);
}

#[test]
fn semantic_errors_name_field_and_valid_values() {
    let k = [("TEAM_KEY", "k")];
    let cases: Vec<(String, &str, &str)> = vec![
        (
            MINIMAL.replace("kind: openai", "kind: opnai"),
            "providers.up.kind",
            "expected one of anthropic, openai, mock",
        ),
        (
            MINIMAL.replace("up/x", "nope/x"),
            "models[0].targets[0]",
            "no provider or group named `nope`",
        ),
        (
            MINIMAL.replace("up/x", "upx"),
            "models[0].targets[0]",
            "is not `provider/upstream-model`",
        ),
        (
            MINIMAL.replace("'http://127.0.0.1:1/v1'", "'ftp://h'"),
            "providers.up.base_url",
            "scheme `ftp`",
        ),
        (
            MINIMAL.replace("enabled: true", "enabled: maybe"),
            "providers.up.enabled",
            "expected auto, true or false",
        ),
        (
            format!("{MINIMAL}\nlisten: {{ proxy: 'localhost' }}\n"),
            "listen.proxy",
            "expected IP:PORT",
        ),
        (
            format!("{MINIMAL}\ndefault_model: other/x\n"),
            "default_model",
            "enabled providers: up",
        ),
        (
            MINIMAL.replace("{ env: TEAM_KEY }", "{ sha256: abc }"),
            "teams[0].keys[0].sha256",
            "64 hex characters",
        ),
        (
            MINIMAL.replace("{ env: TEAM_KEY }", "{ env: OTHER_KEY }"),
            "teams[0].keys[0].env",
            "OTHER_KEY is not set",
        ),
        (
            MINIMAL.replace("{ env: TEAM_KEY }", "{}"),
            "teams[0].keys[0]",
            "expected `env: VAR`",
        ),
    ];
    for (text, path, needle) in cases {
        let e = parse_err(&text, &k);
        assert_eq!(e.path, path, "{e}");
        assert!(e.message.contains(needle), "wanted `{needle}` in: {e}");
    }
}

#[test]
fn teams_are_required_and_unique() {
    let no_teams = MINIMAL.split("teams:").next().unwrap().to_string();
    assert_eq!(parse_err(&no_teams, &[]).path, "teams");
    let dup = format!("{MINIMAL}  - {{ name: t, keys: [{{ env: TEAM_KEY2 }}] }}\n");
    let e = parse_err(&dup, &[("TEAM_KEY", "k"), ("TEAM_KEY2", "k2")]);
    assert!(e.message.contains("defined twice"), "{e}");
    let same_key = format!("{MINIMAL}  - {{ name: u, keys: [{{ env: TEAM_KEY2 }}] }}\n");
    let e = parse_err(&same_key, &[("TEAM_KEY", "k"), ("TEAM_KEY2", "k")]);
    assert!(e.message.contains("already used"), "{e}");
}

#[test]
fn embedded_default_without_keys_routes_everything_to_the_mock() {
    let c = parse(EMBEDDED_DEFAULT, EMBEDDED_NAME, &env(&[])).unwrap();
    let names: Vec<&str> = c.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["mock"]);
    let route = c.router.resolve("claude-opus-5-5", None).unwrap();
    assert_eq!(c.providers[route.targets[0].provider].name, "mock");
    let generated = c.generated_team_key.as_ref().unwrap();
    assert!(c.teams.authenticate(generated.key.expose()).is_some());
}

#[test]
fn embedded_default_follows_the_sdk_environment() {
    let e = env(&[
        ("ANTHROPIC_API_KEY", "sk-ant-api03-x"),
        ("OPENROUTER_API_KEY", "sk-or-x"),
        ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9000"),
        ("SWITCHYARD_TEAM_KEY", "team"),
        ("SWITCHYARD_DEFAULT_MODEL", "openrouter/z-ai/glm-4.5-air"),
        ("SWITCHYARD_LISTEN", "127.0.0.1:18317"),
    ]);
    let c = parse(EMBEDDED_DEFAULT, EMBEDDED_NAME, &e).unwrap();
    let names: Vec<&str> = c.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["anthropic", "openrouter"]);
    assert_eq!(c.listen.proxy, "127.0.0.1:18317");
    assert!(c.generated_team_key.is_none());
    let Upstream::Url(u) = &c.providers[0].upstream else {
        panic!()
    };
    assert_eq!((u.tls, u.port, u.base_path.as_str()), (false, 9000, ""));
    let name_of = |m: &str| {
        c.router.resolve(m, None).map(|r| {
            (
                c.providers[r.targets[0].provider].name.clone(),
                r.targets[0].upstream_model.clone(),
            )
        })
    };
    assert_eq!(
        name_of("claude-sonnet-4-5"),
        Some(("anthropic".into(), "claude-sonnet-4-5".into()))
    );
    assert_eq!(
        name_of("gpt-5"),
        Some(("openrouter".into(), "z-ai/glm-4.5-air".into()))
    );
    assert_eq!(
        name_of("openrouter/qwen/qwen3"),
        Some(("openrouter".into(), "qwen/qwen3".into()))
    );
}

#[test]
fn example_config_is_valid() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/example.yaml")).unwrap();
    let c = parse(
        &text,
        "conf/example.yaml",
        &env(&[("ANTHROPIC_API_KEY", "a"), ("OPENROUTER_API_KEY", "o")]),
    )
    .unwrap();
    assert_eq!(c.providers.len(), 2);
    assert!(
        c.teams.authenticate("test").is_some(),
        "sha256 of `test` is in the example"
    );
}

#[test]
fn usage_store_defaults_to_sqlite_under_the_data_dir() {
    let c = parse(
        MINIMAL,
        "test.yaml",
        &env(&[("TEAM_KEY", "k"), ("SWITCHYARD_DATA_DIR", "/srv/sy")]),
    )
    .unwrap();
    assert_eq!(
        c.usage.store,
        StoreLocation::Sqlite("/srv/sy/usage.db".into())
    );
    let c = parse(MINIMAL, "test.yaml", &env(&[("TEAM_KEY", "k")])).unwrap();
    assert_eq!(
        c.usage.store,
        StoreLocation::Sqlite("./switchyard-data/usage.db".into())
    );
    assert_eq!(
        (
            c.usage.batch_size,
            c.usage.queue_size,
            c.request_log.clone()
        ),
        (256, 10_000, RequestLog::Off)
    );
    let c = parse(
        &format!("{MINIMAL}usage: {{ store: none }}\n"),
        "test.yaml",
        &env(&[("TEAM_KEY", "k")]),
    )
    .unwrap();
    assert_eq!(c.usage.store, StoreLocation::None);
    let c = parse(&format!("{MINIMAL}usage: {{ store: 'postgres://sy:pw@db:5432/usage' }}\nlog: {{ requests: stdout }}\n"), "test.yaml", &env(&[("TEAM_KEY", "k")])).unwrap();
    assert_eq!(
        c.usage.store.describe(),
        "postgres://sy@db:5432/usage",
        "the password is never shown"
    );
    assert_eq!(c.request_log, RequestLog::Stdout);
}

#[test]
fn accounting_errors_name_the_field() {
    let k = &[("TEAM_KEY", "k"), ("ADMIN_KEY", "a")];
    let e = parse_err(&format!("{MINIMAL}usage: {{ store: 'mysql://x/y' }}\n"), k);
    assert_eq!(
        (
            e.path.as_str(),
            e.message.contains("`mysql` is not a supported store")
        ),
        ("usage.store", true),
        "{e}"
    );
    let e = parse_err(&format!("{MINIMAL}usage: {{ batch_size: 0 }}\n"), k);
    assert_eq!(e.path, "usage.batch_size");
    let e = parse_err(
        &format!("{MINIMAL}usage: {{ batch_size: 100, queue_size: 10 }}\n"),
        k,
    );
    assert_eq!(e.path, "usage.queue_size");
    let e = parse_err(&format!("{MINIMAL}usage: {{ flush_interval_ms: 0 }}\n"), k);
    assert_eq!(e.path, "usage.flush_interval_ms");
    let e = parse_err(
        &format!("{MINIMAL}pricing:\n  my-model: {{ input: 1, output: 'cheap' }}\n"),
        k,
    );
    assert_eq!(e.path, "pricing.my-model.output", "{e}");
    let e = parse_err(
        &format!("{MINIMAL}pricing:\n  my-model: {{ input: 1 }}\n"),
        k,
    );
    assert!(
        e.path.starts_with("pricing.my-model") && e.message.contains("output"),
        "{e}"
    );
    let e = parse_err(&format!("{MINIMAL}admin:\n  keys: [{{ env: NOPE }}]\n"), k);
    assert_eq!(e.path, "admin.keys[0].env");
    let e = parse_err(
        &format!("{MINIMAL}admin:\n  keys: [{{ env: TEAM_KEY }}]\n"),
        k,
    );
    assert!(
        e.path == "admin.keys[0]" && e.message.contains("also a team key"),
        "{e}"
    );
    let e = parse_err(&format!("{MINIMAL}log: {{ requests: /var/log/ }}\n"), k);
    assert_eq!(e.path, "log.requests");
}

#[test]
fn key_names_and_prices_from_config() {
    let text = MINIMAL.replace("{ env: TEAM_KEY }", "{ env: TEAM_KEY, name: ana-laptop }")
        + "pricing:\n  up/x: { input: 0.5, output: 1.5, cache_read: 0.05 }\nadmin:\n  keys: [{ env: ADMIN_KEY, name: ops }]\n";
    let c = parse(
        &text,
        "test.yaml",
        &env(&[("TEAM_KEY", "k"), ("ADMIN_KEY", "a")]),
    )
    .unwrap();
    assert_eq!(&*c.teams.find("k").unwrap().id, "ana-laptop");
    assert_eq!(c.admin_keys.find("a").map(|id| &**id), Some("ops"));
    assert!(
        c.admin_keys.find("k").is_none(),
        "a team key never opens an admin endpoint"
    );
    let price = c.pricing.lookup("up", "x").unwrap();
    assert_eq!(
        (
            price.base.input,
            price.base.cache_read,
            price.base.cache_write_5m
        ),
        (500_000, 50_000, 500_000)
    );
    assert!(c.model_labels.contains("x") && c.model_labels.contains("claude-sonnet-4-5"));
}

#[test]
fn model_names_with_control_characters_are_refused_where_they_are_written() {
    let k = &[("TEAM_KEY", "k")];
    let e = parse_err(
        &MINIMAL.replace("targets: [up/x]", "targets: [\"up/x\\ny\"]"),
        k,
    );
    assert_eq!(e.path, "models[0].targets[0]");
    assert!(
        e.message
            .contains("`up/x\\ny` contains the control character U+000A"),
        "{}",
        e.message
    );
    let e = parse_err(&MINIMAL.replace("name: m,", "name: \"m\\r\","), k);
    assert_eq!(e.path, "models[0].name");
    let e = parse_err(&format!("{MINIMAL}default_model: \"up/a\\u0000\"\n"), k);
    assert_eq!(e.path, "default_model");
    let e = parse_err(
        &MINIMAL.replace(
            "enabled: true }",
            "enabled: true, models: [ok, \"b\\td\"] }",
        ),
        k,
    );
    assert_eq!(e.path, "providers.up.models[1]");
}

#[test]
fn cache_translation_defaults_follow_the_providers_host() {
    let yaml = "
providers:
  openrouter: { kind: openai, base_url: 'https://openrouter.ai/api/v1', enabled: true }
  openai: { kind: openai, base_url: 'https://api.openai.com/v1', enabled: true }
  local: { kind: openai, base_url: 'http://127.0.0.1:1/v1', enabled: true }
  forced: { kind: openai, base_url: 'https://openrouter.ai/api/v1', enabled: true, translation: { cache_control: false, prompt_cache_key: true } }
models:
  - { name: m, targets: [local/x] }
teams:
  - { name: t, keys: [{ env: TEAM_KEY }] }
";
    let c = parse(yaml, "test.yaml", &env(&[("TEAM_KEY", "k")])).unwrap();
    let settings: Vec<(&str, bool, bool)> = c
        .providers
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.translation.cache_control,
                p.translation.prompt_cache_key,
            )
        })
        .collect();
    assert_eq!(
        settings,
        [
            ("forced", false, true),
            ("local", false, false),
            ("openai", false, true),
            ("openrouter", true, false)
        ]
    );
}

#[test]
fn responses_api_defaults_to_openai_itself_and_is_refused_where_it_cannot_apply() {
    let k = [("TEAM_KEY", "k")];
    let c = parse(MINIMAL, "test.yaml", &env(&k)).unwrap();
    assert!(
        !c.providers[0].responses_api,
        "an arbitrary OpenAI-compatible server gets chat completions"
    );
    let openai = MINIMAL.replace("'http://127.0.0.1:1/v1'", "'https://api.openai.com/v1'");
    assert!(parse(&openai, "test.yaml", &env(&k)).unwrap().providers[0].responses_api);
    let marked = MINIMAL.replace("enabled: true", "enabled: true, responses_api: true");
    assert!(parse(&marked, "test.yaml", &env(&k)).unwrap().providers[0].responses_api);
    let e = parse_err(&marked.replace("kind: openai", "kind: anthropic"), &k);
    assert_eq!(e.path, "providers.up.responses_api");
    assert!(e.message.contains("only applies to kind openai"), "{e}");
}

const LIMITED: &str = "
providers:
  up: { kind: openai, base_url: 'http://127.0.0.1:1/v1', enabled: true }
models:
  - { name: m, targets: [up/x] }
default_limits: { requests_per_minute: 600, max_concurrent: 20 }
teams:
  - name: platform
    keys: [{ env: TEAM_KEY, name: alice, limits: { tokens_per_minute: 5000 } }]
    limits: { requests_per_minute: 61, max_concurrent: unlimited }
  - { name: research, keys: [{ env: OTHER_KEY }] }
";

fn limited(text: &str) -> Result<Config, ConfigError> {
    parse(
        text,
        "test.yaml",
        &env(&[("TEAM_KEY", "k"), ("OTHER_KEY", "o")]),
    )
}

#[test]
fn team_limits_fill_in_from_the_default_field_by_field_and_keys_keep_their_own() {
    let c = limited(LIMITED).unwrap();
    let platform = c.teams.find("k").unwrap();
    let team = platform.team.limits.as_ref().unwrap();
    assert_eq!(
        (
            team.limits.requests_per_minute,
            team.limits.tokens_per_minute,
            team.limits.max_concurrent
        ),
        (Some(61), None, None),
        "own rpm, `unlimited` lifts the default concurrency"
    );
    assert_eq!(&*platform.id, "alice");
    let key = platform.limits.as_ref().unwrap();
    assert_eq!(
        (
            key.limits.tokens_per_minute,
            key.limits.requests_per_minute,
            &*key.team
        ),
        (Some(5000), None, "platform"),
        "keys get no default"
    );
    let research = c.teams.find("o").unwrap();
    let defaults = research.team.limits.as_ref().unwrap();
    assert_eq!(
        (
            defaults.limits.requests_per_minute,
            defaults.limits.max_concurrent
        ),
        (Some(600), Some(20))
    );
    assert!(
        research.limits.is_none(),
        "a key without limits is never counted on its own"
    );
    assert!(research.id.starts_with("sha256:"));
    assert!(c.shared_state.is_none());
}

#[test]
fn no_limits_anywhere_means_no_scope() {
    let c = parse(MINIMAL, "test.yaml", &env(&[("TEAM_KEY", "k")])).unwrap();
    let key = c.teams.find("k").unwrap();
    assert!(key.team.limits.is_none() && key.limits.is_none());
}

#[test]
fn limit_values_name_the_field_and_what_is_valid() {
    let e =
        limited(&LIMITED.replace("requests_per_minute: 61", "requests_per_minute: 0")).unwrap_err();
    assert_eq!(e.path, "teams[0].limits.requests_per_minute");
    assert!(
        e.message.contains("0 would refuse every request") && e.message.contains("`unlimited`"),
        "{}",
        e.message
    );
    let e = limited(&LIMITED.replace("tokens_per_minute: 5000", "tokens_per_minute: lots"))
        .unwrap_err();
    assert_eq!(e.path, "teams[0].keys[0].limits.tokens_per_minute");
    assert!(
        e.message
            .contains("`lots` is not valid: expected a whole number of at least 1, or `unlimited`"),
        "{}",
        e.message
    );
    let e = limited(&LIMITED.replace("max_concurrent: 20", "max_concurrent: -3")).unwrap_err();
    assert_eq!(e.path, "default_limits.max_concurrent");
    let e = limited(&LIMITED.replace("requests_per_minute: 600", "request_per_minute: 600"))
        .unwrap_err();
    assert_eq!(e.path, "default_limits.request_per_minute");
    assert!(
        e.message.contains("unknown field `request_per_minute`")
            && e.message.contains("requests_per_minute"),
        "{}",
        e.message
    );
    // Interpolated values arrive as strings.
    let c = parse(
        &LIMITED.replace("requests_per_minute: 61", "requests_per_minute: '${RPM}'"),
        "t.yaml",
        &env(&[("TEAM_KEY", "k"), ("OTHER_KEY", "o"), ("RPM", "42")]),
    )
    .unwrap();
    assert_eq!(
        c.teams
            .find("k")
            .unwrap()
            .team
            .limits
            .as_ref()
            .unwrap()
            .limits
            .requests_per_minute,
        Some(42)
    );
}

#[test]
fn budgets_are_usd_held_as_nano_usd_with_a_warning_share_that_inherits() {
    let text = LIMITED
        .replace(
            "default_limits: { requests_per_minute: 600, max_concurrent: 20 }",
            "default_limits: { budget_usd_per_month: 500, budget_warn_at: 0.9 }",
        )
        .replace(
            "limits: { tokens_per_minute: 5000 }",
            "limits: { budget_usd_per_day: 0.0001 }",
        )
        .replace(
            "limits: { requests_per_minute: 61, max_concurrent: unlimited }",
            "limits: { budget_usd_per_day: '${DAY}', budget_usd_per_month: unlimited }",
        );
    let c = parse(
        &text,
        "t.yaml",
        &env(&[("TEAM_KEY", "k"), ("OTHER_KEY", "o"), ("DAY", "12.5")]),
    )
    .unwrap();
    let platform = c.teams.find("k").unwrap();
    let team = &platform.team.limits.as_ref().unwrap().limits;
    assert_eq!(
        (
            team.budget_usd_per_day,
            team.budget_usd_per_month,
            team.budget_warn_ppm
        ),
        (Some(12_500_000_000), None, 900_000)
    );
    let key = &platform.limits.as_ref().unwrap().limits;
    assert_eq!(
        (key.budget_usd_per_day, key.budget_warn_ppm),
        (Some(100_000), 800_000),
        "keys get no default"
    );
    let research = &c
        .teams
        .find("o")
        .unwrap()
        .team
        .limits
        .as_ref()
        .unwrap()
        .limits;
    assert_eq!(research.budget_usd_per_month, Some(500_000_000_000));
    for (bad, path, says) in [
        (
            "budget_usd_per_month: 0,",
            "default_limits.budget_usd_per_month",
            "0 is not valid: expected an amount of USD greater than 0",
        ),
        (
            "budget_usd_per_month: -5,",
            "default_limits.budget_usd_per_month",
            "-5 is not valid",
        ),
        (
            "budget_usd_per_month: .inf,",
            "default_limits.budget_usd_per_month",
            "`.inf` is not valid",
        ),
        (
            "budget_usd_per_month: lots,",
            "default_limits.budget_usd_per_month",
            "`lots` is not valid: expected an amount of USD",
        ),
        (
            "budget_warn_at: 1.5,",
            "default_limits.budget_warn_at",
            "`1.5` is not valid: expected a fraction of the budget greater than 0 and at most 1",
        ),
    ] {
        let e =
            limited(&LIMITED.replace("default_limits: {", &format!("default_limits: {{ {bad}")))
                .unwrap_err();
        assert_eq!(e.path, path, "{bad}");
        assert!(e.message.contains(says), "{bad}: {}", e.message);
    }
}

#[test]
fn key_names_are_unique_across_teams() {
    let e = limited(&LIMITED.replace("[{ env: OTHER_KEY }]", "[{ env: OTHER_KEY, name: alice }]"))
        .unwrap_err();
    assert_eq!(e.path, "teams[1].keys[0].name");
    assert!(
        e.message
            .contains("`alice` is already the name of teams[0].keys[0]"),
        "{}",
        e.message
    );
    let e = limited(&LIMITED.replace("name: alice", "name: ' '")).unwrap_err();
    assert_eq!(e.path, "teams[0].keys[0].name");
}

#[test]
fn shared_state_errors_name_the_field_and_never_echo_a_password() {
    let with = |block: &str| limited(&format!("{LIMITED}shared_state: {block}\n"));
    let c = with(
        "{ redis_url: 'redis://:hunter2@127.0.0.1:6390/2', on_error: fail_closed, timeout_ms: 30 }",
    )
    .unwrap();
    let s = c.shared_state.unwrap();
    assert_eq!(
        (s.on_error, s.timeout.as_millis(), s.key_prefix.as_str()),
        (crate::limits::OnError::FailClosed, 30, "switchyard")
    );
    assert!(
        !s.location.contains("hunter2") && s.location.contains("127.0.0.1:6390"),
        "{}",
        s.location
    );
    let e = with("{ redis_url: 'rediss://:hunter2@host:6379' }").unwrap_err();
    assert_eq!(e.path, "shared_state.redis_url");
    assert!(
        e.message.contains("scheme `rediss` is not supported") && !e.message.contains("hunter2"),
        "{}",
        e.message
    );
    let e = with("{ redis_url: 'not a url' }").unwrap_err();
    assert_eq!(e.path, "shared_state.redis_url");
    let e = with("{ on_error: fail_open }").unwrap_err();
    assert_eq!(e.path, "shared_state");
    assert!(
        e.message.contains("missing field `redis_url`"),
        "{}",
        e.message
    );
    let e = with("{ redis_url: 'redis://127.0.0.1', on_error: fail_shut }").unwrap_err();
    assert_eq!(e.path, "shared_state.on_error");
    assert!(
        e.message.contains("expected fail_open") && e.message.contains("fail_closed"),
        "{}",
        e.message
    );
    let e = with("{ redis_url: 'redis://127.0.0.1', timeout_ms: 0 }").unwrap_err();
    assert_eq!(e.path, "shared_state.timeout_ms");
    let e = with("{ redis_url: 'redis://127.0.0.1', key_prefix: 'a b' }").unwrap_err();
    assert_eq!(e.path, "shared_state.key_prefix");
}

#[test]
fn proxy_tls_paths_are_checked_when_the_config_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("cert.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let with = |cert: &str, key: &str| {
        limited(&format!(
            "listen:\n  proxy_tls: {{ cert: '{cert}', key: '{key}' }}\n{LIMITED}"
        ))
    };
    let e = with("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
    assert_eq!(e.path, "listen.proxy_tls.cert");
    assert!(
        e.message.contains("cannot read `/nonexistent/cert.pem`")
            && e.message.contains("expected a PEM file"),
        "{}",
        e.message
    );
    let e = with(&not_pem.display().to_string(), "/nonexistent/key.pem").unwrap_err();
    assert_eq!(e.path, "listen.proxy_tls.cert");
    assert!(e.message.contains("holds no certificate"), "{}", e.message);
    let e = limited(&format!("listen:\n  proxy_tls: {{ cert: x }}\n{LIMITED}")).unwrap_err();
    assert_eq!(e.path, "listen.proxy_tls");
    assert!(e.message.contains("missing field `key`"), "{}", e.message);
}
