//! What the usage ledger keeps when the gateway stops: a graceful SIGTERM under traffic loses no
//! record (the drain flushes the queue before the process exits); a SIGKILL loses at most the
//! records of the last flush interval (`usage.flush_interval_ms`), the bound docs/architecture.md
//! states.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn gateway(mock: &Mock, usage: &str) -> Gateway {
    let providers = provider_yaml("anthropic", "anthropic", &mock.url(), "sk-ant-api03-durable");
    let extra = format!("{usage}log:\n  requests: \"${{SWITCHYARD_DATA_DIR}}/requests.jsonl\"\n");
    Gateway::with_config(&(config(&providers, "  - { name: \"*\", targets: [\"anthropic/claude-haiku-4-5\"] }\n") + &extra)).start()
}

/// One request; its request id when the whole response arrived.
fn one(base: &str, i: usize) -> Option<String> {
    let stream = i % 3 == 0;
    let body = json!({"model": "m", "max_tokens": 20, "stream": stream, "messages": [{"role": "user", "content": format!("request {i}")}]});
    let r = client().post(format!("{base}/v1/messages")).header("x-api-key", TEAM_KEY).header("x-mock-delay-ms", "5").json(&body).send().ok()?;
    let id = r.headers().get("x-request-id")?.to_str().ok()?.to_string();
    (r.status() == 200).then_some(())?;
    let text = r.text().ok()?;
    (!stream || text.contains("message_stop")).then_some(id)
}

fn stored(gw: &Gateway) -> u64 {
    gw.usage_json("team").first().and_then(|t| t["requests"].as_u64()).unwrap_or(0)
}

#[test]
fn sigterm_under_traffic_loses_no_record() {
    let mock = Mock::start(&[]);
    let mut gw = gateway(&mock, "");
    let done: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (base, done, stop) = (gw.base.clone(), done.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = w * 100_000;
                while !stop.load(Ordering::Relaxed) {
                    if let Some(id) = one(&base, i) {
                        done.lock().unwrap().push(id);
                    }
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    gw.process.signal("TERM");
    let status = gw.process.wait_exit(Duration::from_secs(30)).expect("the gateway exits after SIGTERM");
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    assert!(status.success(), "{}", gw.process.stderr.text());
    let completed = done.lock().unwrap().clone();
    assert!(completed.len() >= 10, "traffic ran: {}", completed.len());
    let log = std::fs::read_to_string(gw.data_dir().join("requests.jsonl")).unwrap();
    let logged: std::collections::HashSet<String> =
        log.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).filter_map(|v| v["request_id"].as_str().map(str::to_string)).collect();
    let missing: Vec<&String> = completed.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(missing.is_empty(), "{} of {} completed requests have no record: {missing:?}", missing.len(), completed.len());
    assert_eq!(stored(&gw), logged.len() as u64, "the store has every record the log has");
}

#[test]
fn sigkill_loses_at_most_the_last_flush_interval() {
    let mock = Mock::start(&[]);
    let interval = Duration::from_millis(500);
    let gw = gateway(&mock, &format!("usage:\n  flush_interval_ms: {}\n", interval.as_millis()));
    let started = Instant::now();
    let mut finished_at = Vec::new();
    let mut i = 0;
    while started.elapsed() < Duration::from_millis(2500) {
        if one(&gw.base, i).is_some() {
            finished_at.push(Instant::now());
        }
        i += 1;
    }
    gw.process.signal("KILL");
    let killed = Instant::now();
    std::thread::sleep(Duration::from_millis(200));
    let kept = stored(&gw);
    // A record is written at the first flush after its request ends; give the write itself 300 ms.
    let surely_flushed = finished_at.iter().filter(|t| killed.duration_since(**t) > interval + Duration::from_millis(300)).count() as u64;
    assert!(kept >= surely_flushed, "kept {kept} records, but {surely_flushed} requests ended more than a flush interval before the kill");
    assert!(kept <= finished_at.len() as u64);
    assert!(surely_flushed > 0, "traffic ran: {}", finished_at.len());
}
