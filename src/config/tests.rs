//! Config tests: each error message is checked, and the embedded default is loaded under the
//! environments a newcomer is likely to have.

use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
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
    let e = parse_err(&MINIMAL.replace("base_url", "base_ur1"), &[("TEAM_KEY", "k")]);
    assert_eq!(e.file, "test.yaml");
    assert_eq!(e.path, "providers.up.base_ur1");
    assert!(e.message.contains("unknown field `base_ur1`"), "{}", e.message);
    assert!(e.message.contains("base_url"), "{}", e.message);
    assert!(e.to_string().starts_with("test.yaml: providers.up.base_ur1: unknown field"), "{e}");
}

#[test]
fn top_level_typo() {
    let e = parse_err(&format!("{MINIMAL}\nmodel: []\n"), &[("TEAM_KEY", "k")]);
    assert!(e.message.contains("unknown field `model`"), "{}", e.message);
    assert!(e.message.contains("models"), "{}", e.message);
}

#[test]
fn unset_variable_names_the_field() {
    let e = parse_err(&MINIMAL.replace("'http://127.0.0.1:1/v1'", "'${UPSTREAM_URL}'"), &[("TEAM_KEY", "k")]);
    assert_eq!(e.path, "providers.up.base_url");
    assert!(e.message.contains("UPSTREAM_URL is not set"), "{}", e.message);
}

#[test]
fn wrong_type_names_the_field() {
    let e = parse_err(&format!("{MINIMAL}\nlimits: {{ max_body_bytes: lots }}\n"), &[("TEAM_KEY", "k")]);
    assert_eq!(e.path, "limits.max_body_bytes");
    assert!(e.message.contains("invalid type"), "{}", e.message);
}

#[test]
fn semantic_errors_name_field_and_valid_values() {
    let k = [("TEAM_KEY", "k")];
    let cases: Vec<(String, &str, &str)> = vec![
        (MINIMAL.replace("kind: openai", "kind: opnai"), "providers.up.kind", "expected one of anthropic, openai, mock"),
        (MINIMAL.replace("up/x", "nope/x"), "models[0].targets[0]", "no provider or group named `nope`"),
        (MINIMAL.replace("up/x", "upx"), "models[0].targets[0]", "is not `provider/upstream-model`"),
        (MINIMAL.replace("'http://127.0.0.1:1/v1'", "'ftp://h'"), "providers.up.base_url", "scheme `ftp`"),
        (MINIMAL.replace("enabled: true", "enabled: maybe"), "providers.up.enabled", "expected auto, true or false"),
        (format!("{MINIMAL}\nlisten: {{ proxy: 'localhost' }}\n"), "listen.proxy", "expected IP:PORT"),
        (format!("{MINIMAL}\ndefault_model: other/x\n"), "default_model", "enabled providers: up"),
        (MINIMAL.replace("{ env: TEAM_KEY }", "{ sha256: abc }"), "teams[0].keys[0].sha256", "64 hex characters"),
        (MINIMAL.replace("{ env: TEAM_KEY }", "{ env: OTHER_KEY }"), "teams[0].keys[0].env", "OTHER_KEY is not set"),
        (MINIMAL.replace("{ env: TEAM_KEY }", "{}"), "teams[0].keys[0]", "expected `env: VAR`"),
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
    let Upstream::Url(u) = &c.providers[0].upstream else { panic!() };
    assert_eq!((u.tls, u.port, u.base_path.as_str()), (false, 9000, ""));
    let name_of = |m: &str| c.router.resolve(m, None).map(|r| (c.providers[r.targets[0].provider].name.clone(), r.targets[0].upstream_model.clone()));
    assert_eq!(name_of("claude-sonnet-4-5"), Some(("anthropic".into(), "claude-sonnet-4-5".into())));
    assert_eq!(name_of("gpt-5"), Some(("openrouter".into(), "z-ai/glm-4.5-air".into())));
    assert_eq!(name_of("openrouter/qwen/qwen3"), Some(("openrouter".into(), "qwen/qwen3".into())));
}

#[test]
fn example_config_is_valid() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/example.yaml")).unwrap();
    let c = parse(&text, "conf/example.yaml", &env(&[("ANTHROPIC_API_KEY", "a"), ("OPENROUTER_API_KEY", "o")])).unwrap();
    assert_eq!(c.providers.len(), 2);
    assert!(c.teams.authenticate("test").is_some(), "sha256 of `test` is in the example");
}

#[test]
fn usage_store_defaults_to_sqlite_under_the_data_dir() {
    let c = parse(MINIMAL, "test.yaml", &env(&[("TEAM_KEY", "k"), ("SWITCHYARD_DATA_DIR", "/srv/sy")])).unwrap();
    assert_eq!(c.usage.store, StoreLocation::Sqlite("/srv/sy/usage.db".into()));
    let c = parse(MINIMAL, "test.yaml", &env(&[("TEAM_KEY", "k")])).unwrap();
    assert_eq!(c.usage.store, StoreLocation::Sqlite("./switchyard-data/usage.db".into()));
    assert_eq!((c.usage.batch_size, c.usage.queue_size, c.request_log.clone()), (256, 10_000, RequestLog::Off));
    let c = parse(&format!("{MINIMAL}usage: {{ store: none }}\n"), "test.yaml", &env(&[("TEAM_KEY", "k")])).unwrap();
    assert_eq!(c.usage.store, StoreLocation::None);
    let c = parse(&format!("{MINIMAL}usage: {{ store: 'postgres://sy:pw@db:5432/usage' }}\nlog: {{ requests: stdout }}\n"), "test.yaml", &env(&[("TEAM_KEY", "k")])).unwrap();
    assert_eq!(c.usage.store.describe(), "postgres://sy@db:5432/usage", "the password is never shown");
    assert_eq!(c.request_log, RequestLog::Stdout);
}

#[test]
fn accounting_errors_name_the_field() {
    let k = &[("TEAM_KEY", "k"), ("ADMIN_KEY", "a")];
    let e = parse_err(&format!("{MINIMAL}usage: {{ store: 'mysql://x/y' }}\n"), k);
    assert_eq!((e.path.as_str(), e.message.contains("`mysql` is not a supported store")), ("usage.store", true), "{e}");
    let e = parse_err(&format!("{MINIMAL}usage: {{ batch_size: 0 }}\n"), k);
    assert_eq!(e.path, "usage.batch_size");
    let e = parse_err(&format!("{MINIMAL}usage: {{ batch_size: 100, queue_size: 10 }}\n"), k);
    assert_eq!(e.path, "usage.queue_size");
    let e = parse_err(&format!("{MINIMAL}usage: {{ flush_interval_ms: 0 }}\n"), k);
    assert_eq!(e.path, "usage.flush_interval_ms");
    let e = parse_err(&format!("{MINIMAL}pricing:\n  my-model: {{ input: 1, output: 'cheap' }}\n"), k);
    assert_eq!(e.path, "pricing.my-model.output", "{e}");
    let e = parse_err(&format!("{MINIMAL}pricing:\n  my-model: {{ input: 1 }}\n"), k);
    assert!(e.path.starts_with("pricing.my-model") && e.message.contains("output"), "{e}");
    let e = parse_err(&format!("{MINIMAL}admin:\n  keys: [{{ env: NOPE }}]\n"), k);
    assert_eq!(e.path, "admin.keys[0].env");
    let e = parse_err(&format!("{MINIMAL}admin:\n  keys: [{{ env: TEAM_KEY }}]\n"), k);
    assert!(e.path == "admin.keys[0]" && e.message.contains("also a team key"), "{e}");
    let e = parse_err(&format!("{MINIMAL}log: {{ requests: /var/log/ }}\n"), k);
    assert_eq!(e.path, "log.requests");
}

#[test]
fn key_names_and_prices_from_config() {
    let text = MINIMAL.replace("{ env: TEAM_KEY }", "{ env: TEAM_KEY, name: ana-laptop }")
        + "pricing:\n  up/x: { input: 0.5, output: 1.5, cache_read: 0.05 }\nadmin:\n  keys: [{ env: ADMIN_KEY, name: ops }]\n";
    let c = parse(&text, "test.yaml", &env(&[("TEAM_KEY", "k"), ("ADMIN_KEY", "a")])).unwrap();
    assert_eq!(&*c.teams.find("k").unwrap().id, "ana-laptop");
    assert_eq!(c.admin_keys.find("a").map(|id| &**id), Some("ops"));
    assert!(c.admin_keys.find("k").is_none(), "a team key never opens an admin endpoint");
    let price = c.pricing.lookup("up", "x").unwrap();
    assert_eq!((price.base.input, price.base.cache_read, price.base.cache_write_5m), (500_000, 50_000, 500_000));
    assert!(c.model_labels.contains("x") && c.model_labels.contains("claude-sonnet-4-5"));
}

#[test]
fn model_names_with_control_characters_are_refused_where_they_are_written() {
    let k = &[("TEAM_KEY", "k")];
    let e = parse_err(&MINIMAL.replace("targets: [up/x]", "targets: [\"up/x\\ny\"]"), k);
    assert_eq!(e.path, "models[0].targets[0]");
    assert!(e.message.contains("`up/x\\ny` contains the control character U+000A"), "{}", e.message);
    let e = parse_err(&MINIMAL.replace("name: m,", "name: \"m\\r\","), k);
    assert_eq!(e.path, "models[0].name");
    let e = parse_err(&format!("{MINIMAL}default_model: \"up/a\\u0000\"\n"), k);
    assert_eq!(e.path, "default_model");
    let e = parse_err(&MINIMAL.replace("enabled: true }", "enabled: true, models: [ok, \"b\\td\"] }"), k);
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
    let settings: Vec<(&str, bool, bool)> = c.providers.iter().map(|p| (p.name.as_str(), p.translation.cache_control, p.translation.prompt_cache_key)).collect();
    assert_eq!(settings, [("forced", false, true), ("local", false, false), ("openai", false, true), ("openrouter", true, false)]);
}

#[test]
fn responses_api_defaults_to_openai_itself_and_is_refused_where_it_cannot_apply() {
    let k = [("TEAM_KEY", "k")];
    let c = parse(MINIMAL, "test.yaml", &env(&k)).unwrap();
    assert!(!c.providers[0].responses_api, "an arbitrary OpenAI-compatible server gets chat completions");
    let openai = MINIMAL.replace("'http://127.0.0.1:1/v1'", "'https://api.openai.com/v1'");
    assert!(parse(&openai, "test.yaml", &env(&k)).unwrap().providers[0].responses_api);
    let marked = MINIMAL.replace("enabled: true", "enabled: true, responses_api: true");
    assert!(parse(&marked, "test.yaml", &env(&k)).unwrap().providers[0].responses_api);
    let e = parse_err(&marked.replace("kind: openai", "kind: anthropic"), &k);
    assert_eq!(e.path, "providers.up.responses_api");
    assert!(e.message.contains("only applies to kind openai"), "{e}");
}
