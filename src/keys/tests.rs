//! The pure parts of person keys: key format, durations, validation against a config, and the
//! index a request reads (lookup, expiry, revocation by absence, the swap).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use super::store::{ActiveKey, KeyRow};
use super::*;
use crate::auth::digest;

const CONFIG: &str = "
providers:
  up: { kind: openai, base_url: 'http://127.0.0.1:1/v1', enabled: true }
models:
  - { name: m, targets: [up/x] }
teams:
  - { name: platform, keys: [{ env: TEAM_KEY, name: platform-ci }], limits: { requests_per_minute: 100 } }
  - { name: research, keys: [{ sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 }] }
";

fn config() -> Config {
    let env: HashMap<String, String> = [("TEAM_KEY".to_string(), "yaml-key".to_string())].into();
    crate::config::parse(CONFIG, "test.yaml", &env).unwrap()
}

fn request(team: &str, name: &str) -> CreateRequest {
    CreateRequest {
        team: team.into(),
        name: name.into(),
        ..CreateRequest::default()
    }
}

fn active(
    name: &str,
    team: &str,
    key: &str,
    expires_ms: Option<i64>,
    limits: KeyLimits,
) -> ActiveKey {
    ActiveKey {
        row: KeyRow {
            name: name.into(),
            team: team.into(),
            created_ms: 0,
            expires_ms,
            revoked_ms: None,
            last_used_ms: None,
            limits,
        },
        digest: digest(key),
    }
}

#[test]
fn generated_keys_are_prefixed_random_and_stored_as_their_digest() {
    let (a, b) = (generate(), generate());
    for g in [&a, &b] {
        let key = g.key.expose();
        assert!(key.starts_with("sk-sy-") && key.len() == 6 + 64, "{key}");
        assert!(key[6..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(g.digest, digest(key));
    }
    assert_ne!(a.key.expose(), b.key.expose());
    assert_eq!(format!("{:?}", a.key), "*****", "never printed by accident");
}

#[test]
fn durations_parse_with_clear_errors() {
    assert_eq!(expiry_ms("90d", 1_000), Ok(1_000 + 90 * 86_400_000));
    assert_eq!(expiry_ms("2s", 0), Ok(2_000));
    assert_eq!(expiry_ms("12h", 0), Ok(12 * 3_600_000));
    assert_eq!(expiry_ms("4w", 0), Ok(28 * 86_400_000));
    for bad in ["", "90", "d", "-1d", "0d", "1y", "soon", "1.5d"] {
        let e = expiry_ms(bad, 0).unwrap_err();
        assert!(
            e.contains("is not a duration") && e.contains("90d"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn creations_are_validated_against_the_config() {
    let c = config();
    let now = 1_700_000_000_000;
    let ok = validate(
        &c,
        &CreateRequest {
            expires: Some("1h".into()),
            ..request("platform", "alice")
        },
        now,
    )
    .unwrap();
    assert_eq!(
        (ok.name.as_str(), ok.team.as_str(), ok.expires_ms),
        ("alice", "platform", Some(now + 3_600_000))
    );

    let e = validate(&c, &request("nope", "alice"), now).unwrap_err();
    assert!(
        matches!(&e, KeyError::Invalid(m) if m.contains("no team `nope`") && m.contains("platform, research")),
        "{e}"
    );
    let e = validate(&c, &request("platform", "platform-ci"), now).unwrap_err();
    assert!(
        matches!(&e, KeyError::Duplicate(_)) && e.status() == 409,
        "{e}"
    );
    for bad in ["", "has space", "sha256:abcd", &"x".repeat(65)] {
        assert_eq!(
            validate(&c, &request("platform", bad), now)
                .unwrap_err()
                .status(),
            400,
            "{bad}"
        );
    }

    let limits = LimitsRequest {
        requests_per_minute: Some(60),
        budget_usd_per_day: Some(serde_json::json!(12.5)),
        budget_usd_per_month: Some(serde_json::json!("300")),
        ..LimitsRequest::default()
    };
    let key = validate(
        &c,
        &CreateRequest {
            limits,
            ..request("platform", "bob")
        },
        now,
    )
    .unwrap();
    assert_eq!(key.limits.requests_per_minute, Some(60));
    assert_eq!(key.limits.budget_nano_usd_per_day, Some(12_500_000_000));
    assert_eq!(key.limits.budget_nano_usd_per_month, Some(300_000_000_000));
    assert_eq!(
        key.limits.describe(),
        "requests_per_minute 60, budget_usd_per_day 12.5, budget_usd_per_month 300"
    );
    let zero = LimitsRequest {
        max_concurrent: Some(0),
        ..LimitsRequest::default()
    };
    assert_eq!(
        validate(
            &c,
            &CreateRequest {
                limits: zero,
                ..request("platform", "bob")
            },
            now
        )
        .unwrap_err()
        .status(),
        400
    );
    let negative = LimitsRequest {
        budget_usd_per_day: Some(serde_json::json!(-1)),
        ..LimitsRequest::default()
    };
    assert_eq!(
        validate(
            &c,
            &CreateRequest {
                limits: negative,
                ..request("platform", "bob")
            },
            now
        )
        .unwrap_err()
        .status(),
        400
    );
}

#[test]
fn the_index_finds_person_keys_by_digest_refuses_expired_ones_and_swaps_whole() {
    let c = config();
    let keys = PersonKeys::without_store("test.yaml");
    let rpm = KeyLimits {
        requests_per_minute: Some(5),
        ..KeyLimits::default()
    };
    let rows = vec![
        active("alice", "platform", "alice-key", None, rpm),
        active(
            "old",
            "platform",
            "old-key",
            Some(1_000),
            KeyLimits::default(),
        ),
        active(
            "ghost",
            "gone-team",
            "ghost-key",
            None,
            KeyLimits::default(),
        ),
        active(
            "platform-ci",
            "platform",
            "shadow-key",
            None,
            KeyLimits::default(),
        ),
    ];
    keys.swap(KeyIndex::build(rows, &c, &KeyIndex::default()));
    assert_eq!(
        keys.len(),
        2,
        "a key of an unknown team, and one named like a YAML key, are left out"
    );

    let alice = keys.authenticate(&c.teams, "alice-key", || 0).unwrap();
    assert_eq!(
        (&*alice.id, alice.team.name.as_str()),
        ("alice", "platform")
    );
    let scope = alice.limits.as_ref().unwrap();
    assert_eq!(
        (scope.kind, &*scope.name, scope.limits.requests_per_minute),
        (crate::limits::ScopeKind::Key, "alice", Some(5))
    );
    assert!(
        alice.team.limits.is_some(),
        "the team's own limits still apply on top"
    );
    assert_eq!(
        keys.authenticate(&c.teams, "yaml-key", || 0)
            .unwrap()
            .id
            .as_ref(),
        "platform-ci",
        "YAML keys keep working"
    );
    assert_eq!(
        keys.authenticate(&c.teams, "alice-ke", || 0).unwrap_err(),
        Refused::Unknown
    );
    assert_eq!(
        keys.authenticate(&c.teams, "ghost-key", || 0).unwrap_err(),
        Refused::Unknown
    );
    assert!(keys.authenticate(&c.teams, "old-key", || 999).is_ok());
    assert_eq!(
        keys.authenticate(&c.teams, "old-key", || 1_000)
            .unwrap_err(),
        Refused::Expired {
            name: "old".into(),
            at_ms: 1_000
        }
    );
    let message = crate::errors::GatewayError::from(Refused::Expired {
        name: "old".into(),
        at_ms: 1_000,
    })
    .message;
    assert!(
        message.contains("key `old` expired at 1970-01-01T00:00:01.000Z"),
        "{message}"
    );

    // Used keys are taken once; a rebuilt index keeps the flag of a key it carries over.
    let used = keys.index.load().take_used(|_| true);
    assert_eq!(used.len(), 2, "alice and old were used: {used:?}");
    assert!(keys.index.load().take_used(|_| true).is_empty());
    keys.authenticate(&c.teams, "alice-key", || 0).unwrap();
    assert!(
        keys.index.load().take_used(|_| false).is_empty(),
        "not due: the flag stays"
    );
    // Revoked: the next load leaves it out, and the swap puts that in force at once.
    let rebuilt = KeyIndex::build(
        vec![
            active("bob", "research", "bob-key", None, KeyLimits::default()),
            active("alice", "platform", "alice-key", None, rpm),
        ],
        &c,
        &keys.index.load(),
    );
    assert!(
        rebuilt
            .by_digest_for_tests(&digest("alice-key"))
            .used
            .load(Ordering::Relaxed),
        "carried over"
    );
    keys.swap(KeyIndex::build(
        vec![active(
            "bob",
            "research",
            "bob-key",
            None,
            KeyLimits::default(),
        )],
        &c,
        &keys.index.load(),
    ));
    assert_eq!(
        keys.authenticate(&c.teams, "alice-key", || 0).unwrap_err(),
        Refused::Unknown
    );
    assert_eq!(
        keys.authenticate(&c.teams, "bob-key", || 0)
            .unwrap()
            .team
            .name,
        "research"
    );
}

#[test]
fn statuses_and_budgets_read_plainly() {
    assert_eq!(status(None, None, 5), "active");
    assert_eq!(status(None, Some(5), 5), "expired");
    assert_eq!(status(None, Some(6), 5), "active");
    assert_eq!(status(Some(1), Some(6), 5), "revoked");
    assert_eq!(
        (usd(5_000_000_000), usd(12_500_000_000), usd(1)),
        ("5".into(), "12.5".into(), "0.000000001".into())
    );
}
