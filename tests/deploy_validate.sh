#!/usr/bin/env bash
# Validates every deployment file in deploy/ (issue 8), with pinned tools it installs itself:
#   Kubernetes  kustomize render (kubectl kustomize) of the base and every overlay; every rendered
#               object against the Kubernetes JSON schemas (kubernetes-validate --strict, several
#               versions); custom resources (ServiceMonitor) against the Prometheus Operator's schema;
#               cross-checks no schema can do (drain timing vs terminationGracePeriodSeconds, listen
#               addresses vs ports and probes); `switchyard check` on each rendered config; checkov.
#   Docker      hadolint and checkov on deploy/docker/Dockerfile; .dockerignore keeps secrets out.
#   systemd     systemd-analyze verify and security (offline) on deploy/systemd/switchyard.service;
#               TimeoutStopSec vs the drain timing of the configs the docs install.
#   Examples    no real-looking provider key in the example env files or docs.
#
# Tools go to target/deploy-tools (a venv from deploy/validate/requirements.txt, installed with uv, and
# the npm package for the ServiceMonitor schema); installing is idempotent and safe to run
# concurrently (flock).
# Needs python3 (venv), node + npm, systemd-analyze (Debian `systemd`), cargo (builds the binary
# unless SWITCHYARD_BIN names one). Exits non-zero if any check fails. No Docker engine or cluster.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

K8S_VERSIONS=(1.30.0 1.37.0)       # oldest Kubernetes we support, newest the schemas know
PROM_MODELS_VERSION=6.0.0           # @kubernetes-models/prometheus-operator
UV_VERSION=0.13.9                   # the installer for deploy/validate/requirements.txt
SECURITY_THRESHOLD=20               # systemd-analyze security: overall exposure <= 2.0 (scale x10)

tools="$root/target/deploy-tools"
out="$root/target/deploy-validate"
t0=$(date +%s)
mkdir -p "$root/target"

# ---------------------------------------------------------------- install (once) ----
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v node >/dev/null || missing+=(node)
command -v npm >/dev/null || missing+=(npm)
command -v systemd-analyze >/dev/null || missing+=("systemd-analyze (apt-get install systemd)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "deploy_validate: missing tools: ${missing[*]}" >&2
  exit 1
fi

(
  exec 9>"$root/target/deploy-tools.lock"
  flock 9
  req="$root/deploy/validate/requirements.txt"
  want="$( (cat "$req"; echo "uv==$UV_VERSION") | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$tools/venv/bin/checkov" ] || [ "$(cat "$tools/venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    echo "installing validation tools into target/deploy-tools/venv (from deploy/validate/requirements.txt)"
    rm -rf "$tools/venv" "$tools/uv"
    mkdir -p "$tools"
    # uv (from PyPI) installs checkov's ~100 dependencies in parallel: ~15 s instead of pip's ~90 s.
    python3 -m venv "$tools/uv"
    "$tools/uv/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
    export UV_CACHE_DIR="$tools/uv-cache" UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1
    "$tools/uv/bin/uv" venv --quiet --python "$(python3 -c 'import sys; print(sys.executable)')" "$tools/venv"
    VIRTUAL_ENV="$tools/venv" "$tools/uv/bin/uv" pip install --quiet -r "$req"
    rm -rf "$UV_CACHE_DIR"   # the venv's files are hard links: the cache only doubles the disk use
    echo "$want" > "$tools/venv/.requirements.sha256"
  fi
  pkg="$tools/node/node_modules/@kubernetes-models/prometheus-operator/package.json"
  if ! grep -q "\"version\": \"$PROM_MODELS_VERSION\"" "$pkg" 2>/dev/null; then
    echo "installing @kubernetes-models/prometheus-operator@$PROM_MODELS_VERSION into target/deploy-tools/node"
    mkdir -p "$tools/node"
    cd "$tools/node"
    [ -f package.json ] || echo '{"private": true}' > package.json
    npm install --no-audit --no-fund --loglevel=error "@kubernetes-models/prometheus-operator@$PROM_MODELS_VERSION"
  fi
)
t_installed=$(date +%s)

venv="$tools/venv/bin"
export PATH="$venv:$PATH"
helpers="$root/deploy/validate"

# One validation run at a time (they share target/deploy-validate).
exec 8>"$root/target/deploy-validate.lock"
flock 8
rm -rf "$out"
mkdir -p "$out"

pyversions="$("$venv/python" -c 'import importlib.metadata as m; print(" | ".join(p + " " + m.version(p) for p in ("kubernetes-validate", "checkov")))')"
echo "tools: $(kubectl version --client 2>/dev/null | tr '\n' ' ')| $pyversions | $(hadolint --version)" \
     "| $(systemd-analyze --version | head -1) | node $(node --version) | prometheus-operator models $PROM_MODELS_VERSION"

passed=0
failed=0
failures=()
check_ok=0
# check NAME COMMAND...: runs COMMAND with its output indented; records pass/fail (and sets check_ok).
check() {
  local name="$1"
  shift
  local start rc
  start=$(date +%s)
  echo
  echo "== $name"
  set +e
  "$@" 2>&1 | sed 's/^/  /'
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -eq 0 ]; then
    check_ok=1
    passed=$((passed + 1))
    echo "   PASS ($(( $(date +%s) - start )) s)"
  else
    check_ok=0
    failed=$((failed + 1))
    failures+=("$name")
    echo "   FAIL (exit $rc, $(( $(date +%s) - start )) s)"
  fi
}

# The binary, for `switchyard check` on the configs and as the unit's ExecStart for systemd-analyze.
build() {
  if [ -n "${SWITCHYARD_BIN:-}" ]; then
    echo "SWITCHYARD_BIN=$SWITCHYARD_BIN"
  else
    cargo build --quiet --locked --bin switchyard || return 1
    echo "cargo build --locked --bin switchyard -> ${CARGO_TARGET_DIR:-target}/debug/switchyard"
  fi
}
t_build=$(date +%s)
check "build: the switchyard binary" build
bin="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/switchyard}"
if [ "$check_ok" != 1 ] || [ ! -x "$bin" ]; then
  bin=""   # the checks that need it fail; systemd-analyze verify falls back to /bin/true
fi
t_built=$(date +%s)

# ---------------------------------------------------------------- Kubernetes ----
# Render from a copy of deploy/k8s in which every `*.example` file stands in for the file it is an
# example of (secrets.env): the render never reads, and never writes out, anyone's real keys.
k8s_copy="$out/k8s"
cp -r deploy/k8s "$k8s_copy"
cp -r deploy/grafana "$out/grafana"   # the overlays include ../../../grafana (the dashboard ConfigMap)
while IFS= read -r example; do
  cp "$example" "${example%.example}"
done < <(find "$k8s_copy" -name '*.example')

renders=()
render() {
  local dir="$1" name="$2"
  kubectl kustomize "$k8s_copy/$dir" > "$out/$name.yaml" || return 1
  echo "deploy/k8s/$dir -> target/deploy-validate/$name.yaml ($(grep -c '^kind:' "$out/$name.yaml") objects)"
}
check "kustomize render: deploy/k8s/base" render base base
if [ "$check_ok" = 1 ]; then renders+=(base); fi
for overlay in deploy/k8s/overlays/*/; do
  overlay="$(basename "$overlay")"
  check "kustomize render: deploy/k8s/overlays/$overlay" render "overlays/$overlay" "overlay-$overlay"
  if [ "$check_ok" = 1 ]; then renders+=("overlay-$overlay"); fi
done

schemas() {
  local name="$1" args=() log rc
  "$venv/python" "$helpers/manifest_checks.py" split "$out/$name.yaml" "$out/$name" || return 1
  for v in "${K8S_VERSIONS[@]}"; do args+=(-k "$v"); done
  log="$out/$name/kubernetes-validate.log"
  kubernetes-validate --strict "${args[@]}" "$out/$name/builtin.yaml" > "$log" 2>&1
  rc=$?
  # A WARN here means "no schema for this kind/apiVersion": for a built-in group that is a typo or a
  # removed API version, so it fails too.
  if [ $rc -ne 0 ] || grep -qE '^(ERROR|WARN|FATAL)' "$log"; then
    grep -vE '^INFO' "$log" | sed 's/^/    /'
    return 1
  fi
  echo "    kubernetes-validate --strict: $(grep -c '^INFO' "$log") object/version pairs passed (${K8S_VERSIONS[*]}), no unknown fields"
}
custom_resources() {
  local name="$1"
  if [ "$(cat "$out/$name/crds.json")" = "[]" ]; then
    echo "no custom resources"
    return 0
  fi
  node "$helpers/validate_crds.mjs" "$tools/node/node_modules" "$out/$name/crds.json"
}
configs() {
  local name="$1" cfg ok=0
  [ -n "$bin" ] || { echo "no switchyard binary (see the build check)"; return 1; }
  # The environment the pods get from the Secret: the example overlay's entries, with a stand-in
  # for the team key, which the example leaves empty on purpose (the pods refuse to start without it).
  local envs=()
  mapfile -t envs < <(grep -hE '^[A-Z_]+=' "$k8s_copy"/overlays/*/secrets.env.example | sort -u)
  for cfg in "$out/$name"/config-*.yaml; do
    [ -e "$cfg" ] || { echo "no switchyard.yaml in any ConfigMap"; return 1; }
    if env -i PATH="$PATH" RUST_LOG=warn "${envs[@]}" SWITCHYARD_TEAM_KEY=validation-stand-in \
        "$bin" check --config "$cfg" > "$cfg.check.log" 2>&1; then
      echo "switchyard check $(basename "$cfg"): ok"
    else
      sed 's/^/    /' "$cfg.check.log"
      ok=1
    fi
  done
  return $ok
}
for name in "${renders[@]}"; do
  check "schemas ($name): Kubernetes ${K8S_VERSIONS[*]}, strict" schemas "$name"
  check "schemas ($name): custom resources" custom_resources "$name"
  if [ "$name" = base ]; then
    check "consistency ($name): drain timing, ports, probes, security" "$venv/python" "$helpers/manifest_checks.py" consistency "$out/$name.yaml"
  else
    check "consistency ($name): drain timing, ports, probes, security, namespace" "$venv/python" "$helpers/manifest_checks.py" consistency "$out/$name.yaml" --require-namespace
  fi
  check "switchyard check ($name): the ConfigMap's config" configs "$name"
done

# checkov, once over every rendering and the Dockerfile. Justified skips live next to what they skip:
# `checkov.io/skipN` annotations in the manifests (kustomize keeps annotations, not comments) and a
# `checkov:skip=` comment in the Dockerfile. CKV_K8S_21 (default namespace) is skipped here because
# the base has no namespace by design; the consistency check above requires one in every overlay.
checkov_all() {
  local args=() log="$out/checkov.log" rc
  for name in "${renders[@]}"; do args+=(-f "$out/$name.yaml"); done
  checkov --skip-download --compact --framework kubernetes dockerfile --skip-check CKV_K8S_21 \
    "${args[@]}" -f deploy/docker/Dockerfile > "$log" 2>&1
  rc=$?
  echo "CKV_K8S_21 (default namespace) not run: the base has no namespace by design, overlays must set one (consistency)"
  # Summaries, then every failed or skipped check with its reason (passed ones are in the log).
  grep -E 'scan results|Passed checks' "$log" | paste - - | sed 's/ scan results:\t/: /'
  awk '/^Check: /{ if (block ~ /FAILED|SKIPPED/) printf "%s", block; block="" } { block = block $0 "\n" }
       END { if (block ~ /FAILED|SKIPPED/) printf "%s", block }' "$log" | grep -E '^Check:|FAILED|SKIPPED|Suppress'
  [ $rc -eq 0 ] && ! grep -q 'FAILED for resource' "$log"
}
check "checkov: rendered manifests + Dockerfile" checkov_all

# ---------------------------------------------------------------- Docker ----
check "hadolint: deploy/docker/Dockerfile" hadolint --no-color deploy/docker/Dockerfile
dockerignore() {
  local want ok=0
  for want in 'target/' '.git/' '**/*.env' '**/secrets.env'; do
    if grep -qxF "$want" .dockerignore; then echo "excludes $want"; else echo "does not exclude $want"; ok=1; fi
  done
  return $ok
}
check ".dockerignore: build output, VCS and secrets stay out of the build context" dockerignore

# ---------------------------------------------------------------- systemd ----
# `verify` needs ExecStart's binary to exist and be executable: verify a copy whose commands point at
# the binary just built instead of /usr/local/bin/switchyard (at /bin/true if the build failed). It
# exits 0 on warnings such as an unknown or unparsable directive, so any line about the unit counts as
# a failure too.
unit_copy="$out/systemd/switchyard.service"
mkdir -p "$out/systemd"
sed "s#/usr/local/bin/switchyard#${bin:-/bin/true}#g" deploy/systemd/switchyard.service > "$unit_copy"
systemd_verify() {
  local log="$out/systemd/verify.log" rc
  systemd-analyze verify --man=no "$unit_copy" > "$log" 2>&1
  rc=$?
  sed 's/^/    /' "$log"
  if [ $rc -ne 0 ] || grep -q 'switchyard' "$log"; then return 1; fi
  echo "no errors or warnings (ExecStart/ExecStartPre/ExecReload -> ${bin:-/bin/true})"
}
check "systemd-analyze verify: deploy/systemd/switchyard.service" systemd_verify
systemd_security() {
  systemd-analyze security --offline=yes --no-pager --threshold="$SECURITY_THRESHOLD" "$unit_copy" | grep -E '✗|Overall'
  return "${PIPESTATUS[0]}"
}
check "systemd-analyze security (offline): exposure <= $((SECURITY_THRESHOLD / 10)).$((SECURITY_THRESHOLD % 10))" systemd_security
systemd_timing() {
  local ok=0 cfg
  for cfg in conf/example.yaml conf/default.yaml; do
    "$venv/python" "$helpers/manifest_checks.py" systemd deploy/systemd/switchyard.service "$cfg" || ok=1
  done
  return $ok
}
check "systemd: TimeoutStopSec covers drain + grace of conf/example.yaml and conf/default.yaml" systemd_timing

# ---------------------------------------------------------------- examples ----
no_real_keys() {
  local files=(deploy/k8s/overlays/*/secrets.env.example deploy/systemd/switchyard.env.example docs/deploy.md) f
  for f in "${files[@]}"; do [ -f "$f" ] || { echo "missing: $f"; return 1; }; done
  # Anthropic, OpenRouter, OpenAI key shapes.
  if grep -nE 'sk-ant-[A-Za-z0-9_-]{16,}|sk-or-v1-[A-Za-z0-9]{16,}|sk-(proj-)?[A-Za-z0-9]{32,}' "${files[@]}"; then
    echo "a value above looks like a real provider key"
    return 1
  fi
  echo "checked: ${files[*]}"
}
check "examples: placeholders only" no_real_keys

# ---------------------------------------------------------------- summary ----
t_end=$(date +%s)
echo
echo "install/check tools: $((t_installed - t0)) s, build binary: $((t_built - t_build)) s, all checks: $((t_end - t_installed)) s"
echo "rendered manifests and logs: target/deploy-validate/"
if [ "$failed" -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}"
fi
echo "deploy_validate: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
