//! The deployment artefacts are validated as part of the test suite: tests/deploy_validate.sh renders
//! the Kubernetes manifests and checks them against the Kubernetes schemas, checkov and our own
//! consistency rules (drain and grace timings, probes, security context), lints the Dockerfile, and
//! verifies the systemd unit — using this build's binary for `switchyard check` on the shipped configs.

use std::process::Command;

#[test]
fn deploy_manifests_validate() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/deploy_validate.sh");
    let out = Command::new("bash").arg(script).env("SWITCHYARD_BIN", env!("CARGO_BIN_EXE_switchyard")).output().expect("run deploy_validate.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "deploy validation failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("0 failed"), "{stdout}");
}
