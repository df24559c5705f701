//! Times `body::peek` on the captured Claude Code request bodies.
//!
//! std-only on purpose (no criterion): it is a before/after check for one function, and a
//! median of many single calls is stable enough on a shared machine while building in seconds.
//! The fixtures are captures with the body stored as a JSON value; Claude Code sends it compact,
//! so the bench compacts it (keeping key order, which matters: `stream` is the last key).
//!
//! `cargo bench --bench body_peek` — fixtures from `BODY_PEEK_FIXTURES`, default
//! `tests/fixtures/claude-code`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use switchyard::body;

const REPS: usize = 4000;

fn main() {
    let dir = std::env::var("BODY_PEEK_FIXTURES").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/claude-code").to_string());
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixtures in {dir}: {e} (set BODY_PEEK_FIXTURES)"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    println!("{:<42} {:>8} {:>12} {:>10} {:>14}", "fixture", "bytes", "median ns", "MB/s", "from_utf8 ns");
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let body = fixture_body(&text);
        body::peek(&body).expect("fixture body peeks");
        let peek_ns = median(|| {
            let _ = black_box(body::peek(black_box(&body)));
        });
        // For scale: what validating the whole body as UTF-8 alone costs.
        let utf8_ns = median(|| {
            let _ = black_box(std::str::from_utf8(black_box(&body)));
        });
        let name = path.file_name().unwrap().to_string_lossy();
        let mbps = body.len() as f64 / peek_ns.as_secs_f64() / 1e6;
        println!("{name:<42} {:>8} {:>12} {:>10.0} {:>14}", body.len(), peek_ns.as_nanos(), mbps, utf8_ns.as_nanos());
    }
}

/// The capture's `body`, compacted the way a JSON client serialises it, in its original key order.
fn fixture_body(capture: &str) -> Vec<u8> {
    let [_, compact] = body::capture_body(capture).expect("a capture with a `body`");
    compact
}

fn median(mut f: impl FnMut()) -> Duration {
    for _ in 0..REPS / 10 {
        f();
    }
    let mut samples: Vec<Duration> = (0..REPS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    samples[REPS / 2]
}
