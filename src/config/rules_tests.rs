//! Rules in config: what loads, and every error naming its field and what would be valid.

use std::collections::HashMap;

use crate::config::parse;
use crate::rules::facts::Thinking;
use crate::rules::{Action, Condition};

const BASE: &str = "
providers:
  anthropic: { kind: anthropic, base_url: 'http://127.0.0.1:1', keys: ['${ANTHROPIC_API_KEY:-}'] }
  openrouter: { kind: openai, base_url: 'http://127.0.0.1:2/v1', keys: ['${OPENROUTER_API_KEY:-}'] }
models:
  - { name: claude, targets: ['anthropic/*'] }
  - { name: glm, targets: ['openrouter/z-ai/glm-4.6', 'anthropic/*'] }
  - { name: 'claude-*', targets: ['anthropic/*'] }
";

fn env(keys: bool) -> HashMap<String, String> {
    let mut e: HashMap<String, String> = [("TEAM_KEY".to_string(), "k".to_string())].into();
    if keys {
        e.insert("ANTHROPIC_API_KEY".into(), "a".into());
        e.insert("OPENROUTER_API_KEY".into(), "o".into());
    }
    e
}

fn config(rules: &str, team_extra: &str) -> String {
    format!(
        "{BASE}rules:\n{rules}\nteams:\n  - name: t\n    keys: [{{ env: TEAM_KEY }}]\n{team_extra}"
    )
}

fn load(rules: &str) -> Result<crate::config::Config, crate::config::ConfigError> {
    parse(&config(rules, ""), "test.yaml", &env(true))
}

#[test]
fn rules_load_into_conditions_and_actions() {
    let c = load(
        "  - name: bg
    when: { model: ['claude-haiku-*', haiku], tools: false, max_tokens: { under: 4096 } }
    model: glm
  - name: think
    when: { thinking: true, headers: { X-Switchyard-Route-Hint: [deep, '*-think'] }, endpoint: messages, format: anthropic }
    model: claude
  - name: rest
    split: [{ model: glm, weight: 3 }, { model: claude, weight: 1 }, { model: 'openrouter/qwen/qwen3-coder', weight: 0 }]",
    )
    .unwrap();
    let set = c.rules.as_ref().unwrap();
    let names: Vec<&str> = set.rules().iter().map(|r| &*r.name).collect();
    assert_eq!(names, ["bg", "think", "rest"]);
    assert_eq!(set.rules()[0].conditions.len(), 3);
    let think = &set.rules()[1].conditions;
    assert_eq!(
        think.iter().map(|c| c.fact()).collect::<Vec<_>>(),
        [
            "endpoint",
            "format",
            "thinking",
            "headers.x-switchyard-route-hint"
        ],
        "in the order facts are listed"
    );
    assert!(
        matches!(&think[2], Condition::Thinking(t) if t == &[Thinking::Adaptive, Thinking::Enabled])
    );
    assert!(
        matches!(&set.rules()[2].action, Action::Split(s) if s.choices.len() == 3 && s.total_weight() == 4)
    );
    let team = c.teams.authenticate("k").unwrap();
    assert!(
        std::sync::Arc::ptr_eq(team.rules.as_ref().unwrap(), set),
        "a team without `rules:` gets the global ones"
    );
}

#[test]
fn a_team_can_opt_out_or_bring_its_own() {
    let rules = "  - { name: all, model: glm }";
    let off = parse(
        &config(rules, "    rules: false\n"),
        "test.yaml",
        &env(true),
    )
    .unwrap();
    assert!(off.teams.authenticate("k").unwrap().rules.is_none());
    let on = parse(&config(rules, "    rules: true\n"), "test.yaml", &env(true)).unwrap();
    assert!(on.teams.authenticate("k").unwrap().rules.is_some());
    let own = parse(
        &config(
            rules,
            "    rules:\n      - { name: mine, when: { images: true }, model: claude }\n",
        ),
        "test.yaml",
        &env(true),
    )
    .unwrap();
    let team_rules = own.teams.authenticate("k").unwrap().rules.clone().unwrap();
    assert_eq!(&*team_rules.rules()[0].name, "mine");
    let e = parse(
        &config(
            rules,
            "    rules:\n      - { name: mine, when: { imagez: true }, model: claude }\n",
        ),
        "test.yaml",
        &env(true),
    )
    .unwrap_err();
    assert_eq!(e.path, "teams[0].rules[0].when.imagez", "{e}");
    assert!(
        e.message.contains("unknown field `imagez`") && e.message.contains("images"),
        "{e}"
    );
    let e = parse(
        &config(rules, "    rules: sometimes\n"),
        "test.yaml",
        &env(true),
    )
    .unwrap_err();
    assert_eq!(
        (e.path.as_str(), e.message.contains("expected false")),
        ("teams[0].rules", true),
        "{e}"
    );
}

#[test]
fn rules_whose_provider_has_no_key_are_skipped_not_refused() {
    let c = parse(
        &config("  - { name: cheap, model: 'openrouter/z-ai/glm-4.6' }\n  - { name: split, split: [{ model: 'openrouter/x', weight: 1 }, { model: claude, weight: 1 }] }", ""),
        "test.yaml",
        &[("TEAM_KEY".to_string(), "k".to_string()), ("ANTHROPIC_API_KEY".to_string(), "a".to_string())].into_iter().collect::<HashMap<_, _>>(),
    )
    .unwrap();
    let set = c.rules.unwrap();
    assert_eq!(
        set.rules().len(),
        1,
        "the rule to a disabled provider is left out"
    );
    assert!(matches!(&set.rules()[0].action, Action::Split(s) if s.choices.len() == 1));
    assert!(
        c.skipped
            .iter()
            .any(|s| s.starts_with("rules[0] (`cheap`)")),
        "{:?}",
        c.skipped
    );
    assert!(
        c.skipped
            .iter()
            .any(|s| s.starts_with("rules[1].split[0] (`split`)")),
        "{:?}",
        c.skipped
    );
}

#[test]
fn errors_name_the_field_and_what_would_be_valid() {
    let cases: &[(&str, &str, &str)] = &[
        ("  - { name: a, when: { colour: red }, model: glm }", "rules[0].when.colour", "unknown field `colour`, expected one of `model`, `team`, `endpoint`"),
        ("  - { name: a, when: { input_tokens: { over: 100, under: 50 } }, model: glm }", "rules[0].when.input_tokens", "no whole number is over 100 and under 50"),
        ("  - { name: a, when: { input_tokens: { over: 100, under: 101 } }, model: glm }", "rules[0].when.input_tokens", "`under` must be at least `over` + 2"),
        ("  - { name: a, when: { messages: { over: -1 } }, model: glm }", "rules[0].when.messages.over", "`-1` is not valid: expected a whole number of 0 or more"),
        ("  - { name: a, when: { max_tokens: { under: 0 } }, model: glm }", "rules[0].when.max_tokens.under", "nothing is under 0"),
        ("  - { name: a, when: { max_tokens: { below: 5 } }, model: glm }", "rules[0].when.max_tokens.below", "unknown bound `below`: expected `{ over: N }`"),
        ("  - { name: a, when: { input_tokens: 5000 }, model: glm }", "rules[0].when.input_tokens", "`5000` is not valid: expected `{ over: N }`, `{ under: N }` or both"),
        ("  - { name: a, when: { thinking: maybe }, model: glm }", "rules[0].when.thinking", "`maybe` is not valid: expected true (adaptive or enabled), false, off, adaptive, enabled"),
        ("  - { name: a, when: { endpoint: completions }, model: glm }", "rules[0].when.endpoint", "`completions` is not valid: expected one of messages, count_tokens, chat_completions, responses"),
        ("  - { name: a, when: { format: grpc }, model: glm }", "rules[0].when.format", "expected one of anthropic, openai, responses"),
        ("  - { name: a, when: { conversation: old }, model: glm }", "rules[0].when.conversation", "expected new (no assistant turn yet) or continuing"),
        ("  - { name: a, when: { model: 'claude-[' }, model: glm }", "rules[0].when.model", "`claude-[` is not a valid glob"),
        ("  - { name: a, when: { model: 5 }, model: glm }", "rules[0].when.model", "expected a string or a list of strings"),
        ("  - { name: a, when: { headers: { 'bad header': x } }, model: glm }", "rules[0].when.headers.bad header", "not a valid HTTP header name"),
        ("  - { name: a, model: nope }", "rules[0].model", "`nope` matches no model in `models:` and no enabled provider: name an alias or chain from `models:`, or `provider/model` (enabled providers: anthropic, openrouter)"),
        ("  - { name: a, split: [{ model: glm, weight: 1 }, { model: nope, weight: 1 }] }", "rules[0].split[1].model", "`nope` matches no model"),
        ("  - { name: a, split: [{ model: glm, weight: 0 }, { model: claude, weight: 0 }] }", "rules[0].split", "the weights sum to 0"),
        ("  - { name: a, split: [{ model: glm, weight: -5 }, { model: claude, weight: 10 }] }", "rules[0].split[0].weight", "-5 is not a valid weight: expected a whole number from 0 to"),
        ("  - { name: a, split: [{ model: glm, weight: 1 }, { model: glm, weight: 2 }] }", "rules[0].split[1].model", "listed twice"),
        ("  - { name: a, split: [] }", "rules[0].split", "needs at least one"),
        ("  - { name: a, model: glm, split: [{ model: glm, weight: 1 }] }", "rules[0]", "either `model` or `split`, not both"),
        ("  - { name: a, when: { images: true } }", "rules[0]", "needs `model: NAME`"),
        ("  - { name: default, model: glm }", "rules[0].name", "`default` is reserved"),
        ("  - { name: 'two words', model: glm }", "rules[0].name", "not a valid rule name"),
        ("  - { name: a, model: glm }\n  - { name: a, model: claude }", "rules[1].name", "rule `a` is defined twice"),
        ("  - { name: a, model: glm, priority: 1 }", "rules[0].priority", "unknown field `priority`"),
    ];
    for (rules, path, says) in cases {
        let e = load(rules).expect_err(rules);
        assert_eq!(e.path, *path, "{rules}: {e}");
        assert!(e.message.contains(says), "{rules}: {e}");
        assert!(
            e.to_string().starts_with(&format!("test.yaml: {path}: ")),
            "{e}"
        );
    }
}

#[test]
fn the_shipped_claude_code_policy_is_valid() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/conf/claude-code-team.yaml"
    ))
    .unwrap();
    let mut e = env(true);
    e.insert("SWITCHYARD_TEAM_KEY".into(), "k".into());
    let c = parse(&text, "conf/claude-code-team.yaml", &e).unwrap();
    assert!(c.skipped.is_empty(), "{:?}", c.skipped);
    let names: Vec<String> = c
        .rules
        .as_ref()
        .unwrap()
        .rules()
        .iter()
        .map(|r| r.name.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "hint-claude",
            "hint-cheap",
            "background",
            "long-context",
            "thinking",
            "images",
            "coding"
        ]
    );
}
