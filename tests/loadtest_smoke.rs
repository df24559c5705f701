//! The load test's smoke mode, as part of the suite: every scenario (JSON and SSE pass-through, the
//! translated stream, many open streams) against every target (the mock directly, nginx, a bare Pingora
//! proxy, switchyard) for about a second each, failing on any error or non-2xx response. It measures
//! nothing — numbers come from the full mode (loadtest/RESULTS.md). This build's binary is used, so
//! the smoke run needs no release build of switchyard.

use std::net::TcpListener;
use std::process::Command;

/// A base port whose next 16 ports are free, so the smoke run cannot collide with another run.
fn free_port_base() -> u16 {
    (0..200u16)
        .map(|i| 21_000 + (std::process::id() as u16 % 97) * 100 + i * 16)
        .find(|base| (1..16).all(|off| TcpListener::bind(("127.0.0.1", base + off)).is_ok()))
        .unwrap_or(18_300)
}

#[test]
fn every_load_scenario_completes_without_errors() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/loadtest/run.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg("--smoke")
        .env("LOADTEST_SWITCHYARD_BIN", env!("CARGO_BIN_EXE_switchyard"))
        .env("LOADTEST_PORT_BASE", free_port_base().to_string())
        .output()
        .expect("run loadtest/run.sh --smoke");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "load-test smoke run failed:\n{stdout}\n{stderr}");
    assert!(format!("{stdout}{stderr}").contains("smoke OK"), "{stdout}\n{stderr}");
}
