//! Rule matching, table by table: every fact, every operator, first-match order, and the routing
//! around the rules (explicit names, team opt-out, rules passed over for a team's model limits).

use std::borrow::Cow;
use std::sync::Arc;

use super::facts::{Conversation, Thinking};
use super::*;
use crate::api::{ApiFormat, Endpoint};
use crate::routing::{Budget, Destination, ProviderEntry, TargetModel, TargetSpec};

fn globs(patterns: &[&str]) -> Globs {
    Globs::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
}

fn range(over: Option<u64>, under: Option<u64>) -> Range {
    Range { over, under }
}

/// A request as a rule sees it: Claude Code's main loop, by default.
fn base() -> Facts<'static> {
    Facts {
        model: "claude-opus-4-5",
        team: "platform",
        endpoint: Some(Endpoint::Messages),
        format: Some(ApiFormat::Anthropic),
        thinking: Thinking::Adaptive,
        input_tokens: 12_000,
        messages: 4,
        images: 0,
        image_bytes: 0,
        tools_offered: true,
        tools: vec![Cow::Borrowed("Bash"), Cow::Borrowed("web_search")],
        max_tokens: Some(32_000),
        conversation: Conversation::Continuing,
        headers: vec![("x-switchyard-route-hint".to_string(), Some("cheap"))],
        split_key: b"session-1".to_vec(),
        split_key_source: facts::KeySource::SessionId,
    }
}

#[test]
fn every_fact_and_operator() {
    type Change = fn(&mut Facts<'static>);
    let none: Change = |_| {};
    // (condition, change to the base request, holds?)
    let cases: Vec<(Condition, Change, bool)> = vec![
        (Condition::Model(globs(&["claude-opus-*"])), none, true),
        (
            Condition::Model(globs(&["claude-haiku-*", "gpt-*"])),
            none,
            false,
        ),
        (
            Condition::Model(globs(&["claude-haiku-*", "gpt-*"])),
            |f| f.model = "gpt-5",
            true,
        ),
        (Condition::Model(globs(&["claude-opus-4-5"])), none, true),
        (Condition::Team(globs(&["plat*"])), none, true),
        (Condition::Team(globs(&["research"])), none, false),
        (Condition::Endpoint(vec![Endpoint::Messages]), none, true),
        (
            Condition::Endpoint(vec![Endpoint::ChatCompletions, Endpoint::CountTokens]),
            none,
            false,
        ),
        (
            Condition::Endpoint(vec![Endpoint::ChatCompletions, Endpoint::CountTokens]),
            |f| f.endpoint = Some(Endpoint::CountTokens),
            true,
        ),
        (Condition::Format(vec![ApiFormat::Anthropic]), none, true),
        (Condition::Format(vec![ApiFormat::OpenAi]), none, false),
        (Condition::Thinking(vec![Thinking::Enabled]), none, false),
        (
            Condition::Thinking(vec![Thinking::Enabled]),
            |f| f.thinking = Thinking::Enabled,
            true,
        ),
        (
            Condition::Thinking(vec![Thinking::Adaptive, Thinking::Enabled]),
            none,
            true,
        ),
        (
            Condition::Thinking(vec![Thinking::Off]),
            |f| f.thinking = Thinking::Off,
            true,
        ),
        (
            Condition::InputTokens(range(Some(100_000), None)),
            none,
            false,
        ),
        (
            Condition::InputTokens(range(Some(100_000), None)),
            |f| f.input_tokens = 100_001,
            true,
        ),
        (
            Condition::InputTokens(range(Some(100_000), None)),
            |f| f.input_tokens = 100_000,
            false,
        ),
        (
            Condition::InputTokens(range(None, Some(12_000))),
            none,
            false,
        ),
        (
            Condition::InputTokens(range(None, Some(12_001))),
            none,
            true,
        ),
        (
            Condition::InputTokens(range(Some(11_999), Some(12_001))),
            none,
            true,
        ),
        (
            Condition::Messages(range(None, Some(2))),
            |f| f.messages = 1,
            true,
        ),
        (Condition::Messages(range(None, Some(2))), none, false),
        (Condition::Messages(range(Some(3), None)), none, true),
        (
            Condition::MaxTokens(range(None, Some(1024))),
            |f| f.max_tokens = Some(512),
            true,
        ),
        (Condition::MaxTokens(range(None, Some(1024))), none, false),
        (
            Condition::MaxTokens(range(None, Some(1024))),
            |f| f.max_tokens = None,
            false,
        ),
        (Condition::MaxTokens(range(Some(16_000), None)), none, true),
        (Condition::Images(true), none, false),
        (Condition::Images(true), |f| f.images = 1, true),
        (Condition::Images(false), none, true),
        (Condition::Tools(true), none, true),
        (Condition::Tools(false), none, false),
        (Condition::Tools(false), |f| f.tools_offered = false, true),
        (Condition::Tool(globs(&["web_search*"])), none, true),
        (Condition::Tool(globs(&["Read", "Edit"])), none, false),
        (Condition::Tool(globs(&["*"])), |f| f.tools.clear(), false),
        (
            Condition::Header("x-switchyard-route-hint".into(), globs(&["cheap"])),
            none,
            true,
        ),
        (
            Condition::Header("x-switchyard-route-hint".into(), globs(&["claude"])),
            none,
            false,
        ),
        (
            Condition::Header("x-switchyard-route-hint".into(), globs(&["*"])),
            |f| f.headers[0].1 = None,
            false,
        ),
        (
            Condition::Conversation(Conversation::Continuing),
            none,
            true,
        ),
        (Condition::Conversation(Conversation::New), none, false),
        (
            Condition::Conversation(Conversation::New),
            |f| f.conversation = Conversation::New,
            true,
        ),
    ];
    for (i, (condition, change, want)) in cases.into_iter().enumerate() {
        let mut f = base();
        change(&mut f);
        assert_eq!(
            condition.holds(&f),
            want,
            "case {i}: {} {} with {}",
            condition.fact(),
            condition.wanted(),
            condition.seen(&f)
        );
    }
}

fn rule(name: &str, conditions: Vec<Condition>, model: &str) -> Rule {
    Rule {
        name: Arc::from(name),
        conditions,
        action: Action::Model(model.to_string()),
    }
}

#[test]
fn simple_patterns_match_as_their_globs_do() {
    let patterns = [
        "claude-*",
        "claude-haiku-4-5",
        "*",
        "a*b",
        "x?",
        "[ab]*",
        "{c,d}*",
        "gpt-*-mini",
        "",
        "a/b*",
    ];
    let names = [
        "claude-",
        "claude-opus-4-5",
        "Claude-x",
        "claude-haiku-4-5",
        "a",
        "ab",
        "acb",
        "x1",
        "xy1",
        "c1",
        "gpt-5-mini",
        "",
        "a/b/c",
        "a/bc",
    ];
    for p in patterns {
        let fast = globs(&[p]);
        let glob = globset::Glob::new(p).unwrap().compile_matcher();
        for n in names {
            assert_eq!(fast.is_match(n), glob.is_match(n), "{p} vs {n}");
        }
    }
}

#[test]
fn all_conditions_must_hold_and_the_first_matching_rule_wins() {
    let set = RuleSet::new(vec![
        rule(
            "background",
            vec![
                Condition::Model(globs(&["claude-haiku-*"])),
                Condition::Tools(false),
            ],
            "fast",
        ),
        rule(
            "thinking",
            vec![Condition::Thinking(vec![Thinking::Enabled])],
            "claude",
        ),
        rule(
            "big",
            vec![Condition::InputTokens(range(Some(10_000), None))],
            "long",
        ),
        rule(
            "also-big",
            vec![Condition::InputTokens(range(Some(10_000), None))],
            "never",
        ),
        rule("rest", vec![], "glm"),
    ]);
    let decide = |f: &Facts<'_>| {
        set.decide(f, |_| true)
            .map(|(r, m)| (r.name.to_string(), m.to_string()))
    };
    assert_eq!(
        decide(&base()),
        Some(("big".into(), "long".into())),
        "first of two matching rules"
    );
    let mut haiku = base();
    haiku.model = "claude-haiku-4-5";
    assert_eq!(
        decide(&haiku).unwrap().0,
        "big",
        "haiku with tools is not background"
    );
    haiku.tools_offered = false;
    assert_eq!(decide(&haiku).unwrap().0, "background");
    let mut small = base();
    small.input_tokens = 500;
    assert_eq!(
        decide(&small).unwrap().0,
        "rest",
        "a rule without conditions catches the rest"
    );
    small.thinking = Thinking::Enabled;
    assert_eq!(decide(&small).unwrap().0, "thinking");
    // A rule whose model the team may not use is passed over, for the next that matches.
    assert_eq!(
        set.decide(&base(), |m| m != "long")
            .map(|(r, _)| r.name.to_string()),
        Some("also-big".to_string())
    );
    assert_eq!(
        set.decide(&base(), |m| m == "glm")
            .map(|(r, _)| r.name.to_string()),
        Some("rest".to_string())
    );
    assert!(set.decide(&base(), |_| false).is_none());
}

#[test]
fn a_rule_set_knows_what_to_gather() {
    let set = RuleSet::new(vec![
        rule(
            "a",
            vec![
                Condition::Model(globs(&["x"])),
                Condition::Header("x-hint".into(), globs(&["y"])),
            ],
            "m",
        ),
        rule(
            "b",
            vec![
                Condition::Images(true),
                Condition::Header("x-hint".into(), globs(&["z"])),
            ],
            "m",
        ),
    ]);
    assert_eq!(set.needs(), Needs::IMAGES);
    assert_eq!(set.headers(), ["x-hint"]);
    assert!(
        !RuleSet::new(vec![rule("m", vec![Condition::Model(globs(&["x"]))], "m")])
            .needs()
            .body(),
        "model globs read nothing from the body"
    );
    let split = Rule {
        name: Arc::from("s"),
        conditions: vec![],
        action: Action::Split(Split {
            choices: vec![Choice::new("a", 1)],
        }),
    };
    assert!(RuleSet::new(vec![split]).needs().contains(Needs::SPLIT_KEY));
}

#[test]
fn a_split_rule_picks_by_conversation() {
    let split = Split {
        choices: vec![
            Choice::new("glm", 60),
            Choice::new("qwen", 20),
            Choice::new("claude", 20),
        ],
    };
    let r = Rule {
        name: Arc::from("coding"),
        conditions: vec![],
        action: Action::Split(split.clone()),
    };
    let mut f = base();
    for i in 0..50 {
        f.split_key = format!("s{i}").into_bytes();
        assert_eq!(r.model_for(&f), split.choose(&f.split_key).model, "{i}");
    }
}

/// A router with two providers and the aliases rules pick.
fn router() -> Router {
    let mut r = Router::default();
    r.add_provider(
        "anthropic",
        ProviderEntry {
            index: 0,
            any_model: true,
            listed_models: vec![],
        },
    );
    r.add_provider(
        "openrouter",
        ProviderEntry {
            index: 1,
            any_model: true,
            listed_models: vec![],
        },
    );
    let spec = |p, m: Option<&str>| TargetSpec {
        dest: Destination::Provider(p),
        model: m.map_or(TargetModel::Requested, |m| TargetModel::Fixed(m.into())),
    };
    r.add_rule("claude", vec![spec(0, None)], Budget::default())
        .unwrap();
    r.add_rule(
        "glm",
        vec![spec(1, Some("z-ai/glm-4.6")), spec(0, None)],
        Budget::default(),
    )
    .unwrap();
    r.add_rule("claude-*", vec![spec(0, None)], Budget::default())
        .unwrap();
    r
}

fn team(rules: Option<Arc<RuleSet>>, allowed: Option<&[&str]>) -> crate::auth::Team {
    let allowed_models = allowed.map(|globs| {
        let mut b = globset::GlobSetBuilder::new();
        for g in globs {
            b.add(globset::Glob::new(g).unwrap());
        }
        b.build().unwrap()
    });
    crate::auth::Team {
        name: "platform".into(),
        allowed_models,
        default_model: None,
        credential_passthrough: false,
        limits: None,
        rules,
    }
}

fn route_of(team: &crate::auth::Team, body: &str) -> Option<(String, Vec<(usize, String)>)> {
    let peek = crate::body::peek_with(body.as_bytes(), true).unwrap();
    let model = peek.model.clone().unwrap();
    let header = |_: &str| None;
    let view = RequestView {
        body: body.as_bytes(),
        spans: peek.fact_spans(),
        model: &model,
        team: &team.name,
        endpoint: Endpoint::Messages,
        format: ApiFormat::Anthropic,
        header: &header,
        request_id: "r",
    };
    route(&router(), team, &view, b"").map(|r| {
        (
            r.rule.as_str().to_string(),
            r.route
                .targets
                .into_iter()
                .map(|t| (t.provider, t.upstream_model))
                .collect(),
        )
    })
}

#[test]
fn routing_around_the_rules() {
    let set = Arc::new(RuleSet::new(vec![
        rule(
            "thinking",
            vec![Condition::Thinking(vec![Thinking::Enabled])],
            "claude",
        ),
        rule(
            "coding",
            vec![Condition::Model(globs(&["claude-*"]))],
            "glm",
        ),
    ]));
    let thinking = r#"{"model":"claude-opus-4-5","thinking":{"type":"enabled","budget_tokens":1024},"messages":[]}"#;
    let plain = r#"{"model":"claude-opus-4-5","messages":[]}"#;
    let with_rules = team(Some(set.clone()), None);
    assert_eq!(
        route_of(&with_rules, thinking),
        Some(("thinking".into(), vec![(0, "claude-opus-4-5".into())])),
        "the alias forwards the client's model"
    );
    assert_eq!(
        route_of(&with_rules, plain),
        Some((
            "coding".into(),
            vec![(1, "z-ai/glm-4.6".into()), (0, "claude-opus-4-5".into())]
        ))
    );
    // An explicit provider/model is honoured, whatever the rules say.
    let explicit = r#"{"model":"anthropic/claude-sonnet-4-5","messages":[]}"#;
    assert_eq!(
        route_of(&with_rules, explicit),
        Some(("explicit".into(), vec![(0, "claude-sonnet-4-5".into())]))
    );
    // A name no rule matches routes by itself; one nothing serves is not routed.
    assert_eq!(
        route_of(&with_rules, r#"{"model":"glm","messages":[]}"#)
            .unwrap()
            .0,
        "default"
    );
    assert_eq!(
        route_of(&with_rules, r#"{"model":"gpt-9","messages":[]}"#),
        None
    );
    // A team without rules gets the requested model.
    assert_eq!(
        route_of(&team(None, None), plain),
        Some(("default".into(), vec![(0, "claude-opus-4-5".into())]))
    );
    // A team that may not use `glm` is not sent there by a rule.
    let limited = team(Some(set), Some(&["claude*"]));
    assert_eq!(
        route_of(&limited, plain),
        Some(("default".into(), vec![(0, "claude-opus-4-5".into())]))
    );
    assert_eq!(route_of(&limited, thinking).unwrap().0, "thinking");
}
