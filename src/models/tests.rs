//! The model list from config shapes a newcomer and a team actually run.

use super::*;
use crate::config::parse;

fn config(yaml: &str) -> crate::config::Config {
    let env: std::collections::HashMap<String, String> =
        [("TEAM_KEY".to_string(), "k".to_string())].into();
    parse(yaml, "test.yaml", &env).unwrap()
}

fn list(
    yaml: &str,
    discovered: &Discovered,
    team_default: Option<&str>,
    may_use: impl Fn(&str) -> bool,
) -> Vec<String> {
    let c = config(yaml);
    usable_models(
        &Sources {
            router: &c.router,
            providers: &c.providers,
            discovered,
        },
        team_default,
        may_use,
    )
}

const TEAM: &str = "teams:\n  - { name: t, keys: [{ env: TEAM_KEY }] }\n";

#[test]
fn the_built_in_mock_lists_its_models_under_names_that_route_to_it() {
    let yaml = format!("providers:\n  mock: {{ kind: mock }}\nmodels:\n  - {{ name: \"*\", targets: [\"mock/*\"] }}\n{TEAM}");
    let names = list(&yaml, &Discovered::default(), None, |_| true);
    assert_eq!(names, crate::mock::model_ids().collect::<Vec<_>>());
}

#[test]
fn aliases_defaults_configured_and_discovered_models_in_that_order() {
    let yaml = format!(
        "providers:\n  anthropic: {{ kind: anthropic, base_url: 'http://127.0.0.1:1', keys: [k], models: [claude-haiku-4-5] }}\n  openrouter: {{ kind: openai, base_url: 'http://127.0.0.1:2/v1', keys: [k] }}\n  fixed: {{ kind: openai, base_url: 'http://127.0.0.1:3/v1', keys: [k], any_model: false, models: [only] }}\nmodels:\n  - {{ name: fast, targets: [openrouter/z-ai/glm-4.5-air] }}\n  - {{ name: \"claude-*\", targets: [\"anthropic/*\"] }}\ndefault_model: openrouter/qwen/qwen3\n{TEAM}"
    );
    let discovered = Discovered::default();
    discovered.set(
        "openrouter",
        vec!["anthropic/claude-sonnet-4.5".into(), "qwen/qwen3".into()].into(),
    );
    discovered.set(
        "anthropic",
        vec!["claude-opus-4-5".into(), "claude-haiku-4-5".into()].into(),
    );
    discovered.set("fixed", vec!["not-listed-without-any-model".into()].into());
    let names = list(&yaml, &discovered, Some("fast"), |_| true);
    assert_eq!(
        names,
        [
            "fast",
            "openrouter/qwen/qwen3",
            "claude-haiku-4-5",
            "fixed/only",
            "claude-opus-4-5",
            "openrouter/anthropic/claude-sonnet-4.5"
        ]
    );
}

#[test]
fn the_team_globs_filter_and_pick_the_name_the_team_may_use() {
    let yaml = format!("providers:\n  anthropic: {{ kind: anthropic, base_url: 'http://127.0.0.1:1', keys: [k], models: [claude-haiku-4-5] }}\nmodels:\n  - {{ name: \"claude-*\", targets: [\"anthropic/*\"] }}\n{TEAM}");
    let names = list(&yaml, &Discovered::default(), None, |m| {
        m.starts_with("anthropic/")
    });
    assert_eq!(
        names,
        ["anthropic/claude-haiku-4-5"],
        "the bare name is refused, the qualified one allowed"
    );
    assert!(list(&yaml, &Discovered::default(), None, |_| false).is_empty());
}

#[test]
fn an_openai_compatible_provider_and_a_default_model_are_never_an_empty_list() {
    let yaml = format!("providers:\n  openrouter: {{ kind: openai, base_url: 'http://127.0.0.1:2/v1', keys: [k] }}\ndefault_model: openrouter/z-ai/glm-4.5-air\n{TEAM}");
    assert_eq!(
        list(&yaml, &Discovered::default(), None, |_| true),
        ["openrouter/z-ai/glm-4.5-air"]
    );
}

#[test]
fn both_list_shapes() {
    let models: Vec<String> = (0..30).map(|i| format!("m{i}")).collect();
    let openai: serde_json::Value =
        serde_json::from_slice(&body(ApiFormat::OpenAi, Some("limit=2"), &models).unwrap())
            .unwrap();
    assert_eq!(
        openai["data"].as_array().unwrap().len(),
        30,
        "OpenAI lists are not paged"
    );
    assert_eq!(
        openai["data"][0],
        serde_json::json!({"id": "m0", "object": "model", "created": 0, "owned_by": "switchyard"})
    );
    let anthropic: serde_json::Value =
        serde_json::from_slice(&body(ApiFormat::Anthropic, None, &models).unwrap()).unwrap();
    assert_eq!(anthropic["data"].as_array().unwrap().len(), 20);
    assert_eq!(
        (
            &anthropic["has_more"],
            &anthropic["first_id"],
            &anthropic["last_id"]
        ),
        (
            &serde_json::json!(true),
            &serde_json::json!("m0"),
            &serde_json::json!("m19")
        )
    );
    assert_eq!(anthropic["data"][0]["type"], "model");
    assert!(body(ApiFormat::Anthropic, Some("limit=5000"), &models).is_err());
}
