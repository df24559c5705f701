use std::time::{Duration, Instant};

use super::*;

fn keys(names: &[&str]) -> Vec<Secret> {
    names.iter().map(|n| Secret::new(*n)).collect()
}

fn pool(names: &[&str], settings: PoolSettings) -> KeyPool {
    KeyPool::new(&keys(names), settings)
}

fn picked(p: &KeyPool, session: Option<&[u8]>, now: Instant) -> usize {
    match p.pick(session, now) {
        Pick::Key(i) => i,
        other => panic!("no key: {other:?}"),
    }
}

#[test]
fn round_robin_spreads_evenly_and_honours_weights() {
    let p = pool(&["a", "b", "c"], PoolSettings::default());
    let now = Instant::now();
    let mut counts = [0; 3];
    for _ in 0..300 {
        counts[picked(&p, None, now)] += 1;
    }
    assert_eq!(counts, [100, 100, 100]);
    let p = pool(&["a", "b"], PoolSettings { weights: vec![3, 1], ..PoolSettings::default() });
    let mut counts = [0; 2];
    for _ in 0..400 {
        counts[picked(&p, None, now)] += 1;
    }
    assert_eq!(counts, [300, 100]);
}

#[test]
fn least_in_flight_prefers_the_idlest_key() {
    let p = pool(&["a", "b", "c"], PoolSettings { strategy: Strategy::LeastInFlight, ..PoolSettings::default() });
    let now = Instant::now();
    p.start(0);
    p.start(0);
    p.start(1);
    assert_eq!(picked(&p, None, now), 2);
    p.start(2);
    p.start(2);
    assert_eq!(picked(&p, None, now), 1);
    p.finish(0);
    p.finish(0);
    assert_eq!(picked(&p, None, now), 0);
}

#[test]
fn a_rate_limited_key_rests_for_exactly_its_retry_after() {
    let p = pool(&["a", "b", "c"], PoolSettings::default());
    let t0 = Instant::now();
    assert_eq!(p.report(1, Outcome::RateLimited(Some(Duration::from_secs(2))), t0), Some(Change::CoolingDown(Duration::from_secs(2))));
    for _ in 0..50 {
        assert_ne!(picked(&p, None, t0 + Duration::from_millis(1999)), 1);
    }
    let back = (0..3).map(|_| picked(&p, None, t0 + Duration::from_millis(2000))).collect::<Vec<_>>();
    assert!(back.contains(&1), "{back:?}");
}

#[test]
fn repeated_failures_open_the_circuit_and_refusals_disable() {
    let p = pool(&["a", "b"], PoolSettings { circuit_failures: 3, circuit_open: Duration::from_secs(10), ..PoolSettings::default() });
    let now = Instant::now();
    assert_eq!(p.report(0, Outcome::Failed, now), None);
    assert_eq!(p.report(0, Outcome::Success, now), None, "a success resets the count");
    assert_eq!(p.report(0, Outcome::Failed, now), None);
    assert_eq!(p.report(0, Outcome::Failed, now), None);
    assert_eq!(p.report(0, Outcome::Failed, now), Some(Change::CircuitOpened(Duration::from_secs(10))));
    assert_eq!(picked(&p, None, now + Duration::from_secs(9)), 1);
    assert_eq!(p.report(1, Outcome::Refused, now), Some(Change::Disabled));
    assert_eq!(p.report(1, Outcome::Refused, now), None, "reported once");
    assert_eq!(p.pick(None, now + Duration::from_secs(9)), Pick::Unavailable(Some(Duration::from_secs(1))));
    assert_eq!(picked(&p, None, now + Duration::from_secs(10)), 0);
}

#[test]
fn conversations_stick_to_a_key_and_move_only_while_it_rests() {
    let p = pool(&["a", "b", "c", "d"], PoolSettings::default());
    let now = Instant::now();
    let session = b"user-42|You are Claude Code";
    let home = picked(&p, Some(session), now);
    for _ in 0..20 {
        assert_eq!(picked(&p, Some(session), now), home);
    }
    p.report(home, Outcome::RateLimited(Some(Duration::from_secs(5))), now);
    let away = picked(&p, Some(session), now);
    assert_ne!(away, home);
    assert_eq!(picked(&p, Some(session), now), away, "the stand-in is stable too");
    assert_eq!(picked(&p, Some(session), now + Duration::from_secs(5)), home, "back home after the rest");
}

#[test]
fn removing_a_key_moves_only_its_own_sessions() {
    let now = Instant::now();
    let before = pool(&["k1", "k2", "k3", "k4"], PoolSettings::default());
    let after = pool(&["k1", "k2", "k4"], PoolSettings::default());
    let name = |p: &KeyPool, i: usize| p.secret(i).unwrap().expose().to_string();
    let (mut moved, mut on_removed) = (0, 0);
    for n in 0..2000 {
        let session = format!("session-{n}");
        let old = name(&before, picked(&before, Some(session.as_bytes()), now));
        let new = name(&after, picked(&after, Some(session.as_bytes()), now));
        if old == "k3" {
            on_removed += 1;
        } else if old != new {
            moved += 1;
        }
    }
    assert_eq!(moved, 0, "sessions of the remaining keys stayed put");
    assert!((300..700).contains(&on_removed), "the removed key had about a quarter: {on_removed}");
}

#[test]
fn empty_pools_and_retry_after_parsing() {
    assert_eq!(pool(&[], PoolSettings::default()).pick(None, Instant::now()), Pick::NoKeys);
    assert_eq!(retry_after(Some("7")), Some(Duration::from_secs(7)));
    assert_eq!(retry_after(Some(" 1.5 ")), Some(Duration::from_millis(1500)));
    assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    assert_eq!(retry_after(Some("-1")), None);
    assert_eq!(retry_after(None), None);
}
