#!/usr/bin/env bash
# switchyard load test — the one command. See loadtest/README.md.
#
#   bash loadtest/run.sh            full run: 3 rounds × 10 s per scenario and target, writes loadtest/RESULTS.md
#   bash loadtest/run.sh --smoke    CI: a few seconds of load per scenario, asserts zero errors, no LiteLLM
#
# Everything runs on 127.0.0.1; everything this script starts is stopped by PID (process group) on exit.
set -euo pipefail
# The whole script is one brace group: bash parses it completely before running it, so editing this file while
# a run is in progress cannot change what that run executes.
{

usage() {
  cat <<'EOF'
usage: bash loadtest/run.sh [--smoke|--full] [options]

  --smoke               short CI run: 1 run per scenario/target, tiny durations, no LiteLLM; fails on any error
  --full                (default) 3 runs of 10 s per scenario/target, LiteLLM included, writes loadtest/RESULTS.md
  -z, --duration D      oha duration per run (full: 10s, smoke: 1s)
  -c, --concurrency N   oha connections for the throughput scenarios (full: 32, smoke: 8)
  --runs N              runs per scenario and target; medians are reported (full: 3, smoke: 1)
  --streams N           open streams in the long-streams scenario (full: 2000, smoke: 50)
  --stream-delay-ms MS  delay between SSE events in the long-streams scenario (full: 500, smoke: 100)
  --scenarios LIST      comma-separated subset of: anth-json-small,anth-json-50k,anth-sse,oai-sse,translated-sse,long-streams,
                        cost-routing
  --targets LIST        comma-separated subset of: direct,nginx,bare,switchyard,litellm
  --no-litellm          skip LiteLLM (no venv install)
  --with-litellm        include LiteLLM in smoke mode too
  --no-build            use the binaries already built
  --results FILE        where the report goes (full default: loadtest/RESULTS.md; with --scenarios/--targets or
                        --smoke: <out dir>/RESULTS.md)
  -h, --help            this text

Environment: CARGO_TARGET_DIR (default <repo>/target), LOADTEST_TOOLS_DIR (default $CARGO_TARGET_DIR/loadtest-tools),
LOADTEST_OUT (default loadtest/out/<date>-<mode>), LOADTEST_PORT_BASE (default 18300; ports are base+1..+10),
LOADTEST_SWITCHYARD_BIN (a switchyard binary to use instead of target/release/switchyard, e.g. with --no-build),
LOADTEST_FIXTURES (the Claude Code fixtures; default tests/fixtures/claude-code).
EOF
}

# ------------------------------------------------------------------ pins and defaults
OHA_VERSION=1.16.0
LITELLM_VERSION=1.82.6   # audited clean by BerriAI after the March 2026 PyPI compromise (1.82.7/1.82.8); not a later release
ANTH_CHUNKS=14           # x-mock-chunks giving 20 SSE events on /v1/messages (checked at start, see events/resp)
OAI_CHUNKS=17            # x-mock-chunks giving 20 SSE data lines on /v1/chat/completions ([DONE] included)

export LT_CMDLINE="bash loadtest/run.sh${*:+ $*}"
MODE=full
DURATION="" CONC="" RUNS="" STREAMS="" STREAM_DELAY_MS=""
WITH_LITELLM="" SKIP_BUILD=0 ONLY_SCEN="" ONLY_TARGETS="" RESULTS_FILE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) MODE=smoke ;;
    --full) MODE=full ;;
    -z|--duration) DURATION=$2; shift ;;
    -c|--concurrency) CONC=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --streams) STREAMS=$2; shift ;;
    --stream-delay-ms) STREAM_DELAY_MS=$2; shift ;;
    --scenarios) ONLY_SCEN=$2; shift ;;
    --targets) ONLY_TARGETS=$2; shift ;;
    --no-litellm) WITH_LITELLM=0 ;;
    --with-litellm) WITH_LITELLM=1 ;;
    --no-build) SKIP_BUILD=1 ;;
    --results) RESULTS_FILE=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

if [[ $MODE == smoke ]]; then
  : "${DURATION:=1s}" "${CONC:=8}" "${RUNS:=1}" "${STREAMS:=50}" "${STREAM_DELAY_MS:=100}" "${WITH_LITELLM:=0}"
  COST_SESSIONS=${COST_SESSIONS:-2}
  WARMUP=""
else
  : "${DURATION:=10s}" "${CONC:=32}" "${RUNS:=3}" "${STREAMS:=2000}" "${STREAM_DELAY_MS:=500}" "${WITH_LITELLM:=1}"
  COST_SESSIONS=${COST_SESSIONS:-100}
  WARMUP=2s
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LT=$ROOT/loadtest
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
TOOLS=${LOADTEST_TOOLS_DIR:-$TARGET_DIR/loadtest-tools}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${LOADTEST_OUT:-$LT/out/$STAMP-$MODE}
LOGS=$OUT/logs
FIXTURES=${LOADTEST_FIXTURES:-$ROOT/tests/fixtures/claude-code}
PY=${PYTHON:-python3}
START_EPOCH=$(date +%s)

PORT_BASE=${LOADTEST_PORT_BASE:-18300}
MOCK_PORT=$((PORT_BASE + 1))
SY_PORT=$((PORT_BASE + 2))
SY_ADMIN_PORT=$((PORT_BASE + 3))
NGINX_PORT=$((PORT_BASE + 4))
BARE_PORT=$((PORT_BASE + 5))
LL_PORT=$((PORT_BASE + 6))
COST_PORT=$((PORT_BASE + 7))       # cost routing: two more switchyard instances, on +7/+8 and +9/+10

ALL_SCENARIOS=(anth-json-small anth-json-50k anth-sse oai-sse translated-sse long-streams cost-routing)
ALL_TARGETS=(direct nginx bare switchyard litellm)

log() { printf '[loadtest %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

in_list() { # in_list WORD "a,b,c" (empty list: everything)
  [[ -z $2 ]] && return 0
  [[ ",$2," == *",$1,"* ]]
}

dur_secs() { # 10s, 500ms, 1m, 2 → whole seconds (rounded up, at least 1)
  local d=$1
  case $d in
    *ms) echo $(( (${d%ms} + 999) / 1000 )) ;;
    *s) echo "${d%s}" ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *) echo "$d" ;;
  esac
}

# ------------------------------------------------------------------ processes (started here, stopped here)
PIDS=()
PNAMES=()
TMP_PIDS=()

start_proc() { # start_proc NAME CMD... — own process group, output to $LOGS/NAME.log
  local name=$1; shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  local pid=$!
  PIDS+=("$pid"); PNAMES+=("$name")
  printf -v "PID_${name//-/_}" '%s' "$pid"
  log "started $name (pid $pid)"
}

pgid_of() { ps -o pgid= -p "$1" 2>/dev/null | tr -d ' '; }

alive() { # a process that exists and is not a zombie
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $st && $st != Z* ]]
}

stop_pid() { # stop_pid PID NAME — signal its process group (if it leads one), SIGKILL after 5 s
  # Background jobs of a non-interactive shell ignore SIGINT, so: SIGINT only for Pingora (it installs its own
  # handler and stops fast on it), SIGTERM for the rest (nginx: fast shutdown; uvicorn, the mock: exit).
  local pid=$1 name=$2 i sig=TERM
  [[ $name == switchyard || $name == bare ]] && sig=INT
  if alive "$pid"; then
    if [[ $(pgid_of "$pid") == "$pid" ]]; then kill "-$sig" -- "-$pid" 2>/dev/null || true; else kill "-$sig" "$pid" 2>/dev/null || true; fi
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      log "$name (pid $pid) still running after 5 s: SIGKILL"
      if [[ $(pgid_of "$pid") == "$pid" ]]; then kill -KILL -- "-$pid" 2>/dev/null || true; else kill -KILL "$pid" 2>/dev/null || true; fi
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local i
  for pid in "${TMP_PIDS[@]:-}"; do [[ -n $pid ]] && kill "$pid" 2>/dev/null || true; done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}" "${PNAMES[i]}"; done
  [[ -n ${OUT:-} && -d ${OUT:-/nonexistent} ]] && log "logs and raw data: $OUT"
  log "total wall time: $(( $(date +%s) - START_EPOCH )) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_http() { # wait_http NAME URL PID SECONDS [curl args...]
  local name=$1 url=$2 pid=$3 secs=$4; shift 4
  local i
  for ((i = 0; i < secs * 5; i++)); do
    if ! alive "$pid"; then tail -n 30 "$LOGS/$name.log" >&2 || true; die "$name exited during start-up"; fi
    if curl -fsS -o /dev/null -m 2 "$@" "$url" 2>/dev/null; then log "$name ready ($url)"; return 0; fi
    sleep 0.2
  done
  tail -n 30 "$LOGS/$name.log" >&2 || true
  die "$name not ready after ${secs}s ($url)"
}

group_sum() { # group_sum PID FILE AWK-EXPR — sum of AWK-EXPR over /proc/<p>/FILE for every process in PID's group
  local pid=$1 file=$2 expr=$3 total=0 p v
  for p in $(pgrep -g "$pid" 2>/dev/null || true); do
    v=$(awk "$expr" "/proc/$p/$file" 2>/dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
rss_kib() { group_sum "$1" status '/^VmRSS:/ {print $2}'; }     # resident set, KiB
cpu_ticks() { group_sum "$1" stat '{print $14 + $15}'; }        # user + system CPU, clock ticks
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# ------------------------------------------------------------------ install and build
mkdir -p "$OUT" "$LOGS" "$OUT/oha" "$OUT/check" "$OUT/bodies"
# The gateways' usage ledgers (the default SQLite store) go with the run's output, not the work tree.
export SWITCHYARD_DATA_DIR="$OUT/data"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log "mode $MODE: duration $DURATION, concurrency $CONC, runs $RUNS, streams $STREAMS (delay ${STREAM_DELAY_MS} ms), litellm $WITH_LITELLM; out $OUT"

for p in "$MOCK_PORT" "$SY_PORT" "$SY_ADMIN_PORT" "$NGINX_PORT" "$BARE_PORT" "$LL_PORT" \
  "$COST_PORT" "$((COST_PORT + 1))" "$((COST_PORT + 2))" "$((COST_PORT + 3))"; do
  port_free "$p" || die "port 127.0.0.1:$p is in use (set LOADTEST_PORT_BASE to move all ports)"
done

for tool in curl "$PY" setsid pgrep timeout; do command -v "$tool" >/dev/null || die "needs $tool"; done

[[ -n $FIXTURES && -f $FIXTURES/01-opus-stream-first-turn.json ]] || die "Claude Code fixtures not found (set LOADTEST_FIXTURES)"

SY_BIN=${LOADTEST_SWITCHYARD_BIN:-$TARGET_DIR/release/switchyard}
BARE_TARGET=$TARGET_DIR/loadtest-baseline
BARE_BIN=$BARE_TARGET/release/bare-pingora
if [[ $SKIP_BUILD == 0 && -n ${LOADTEST_SWITCHYARD_BIN:-} ]]; then
  log "using LOADTEST_SWITCHYARD_BIN=$LOADTEST_SWITCHYARD_BIN (no release build of switchyard)"
fi
if [[ $SKIP_BUILD == 0 && -z ${LOADTEST_SWITCHYARD_BIN:-} ]]; then
  log "cargo build --release (switchyard)"
  t0=$(date +%s)
  (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --locked --bin switchyard) >"$LOGS/build-switchyard.log" 2>&1 \
    || { tail -n 40 "$LOGS/build-switchyard.log" >&2; die "switchyard release build failed"; }
  log "switchyard built in $(( $(date +%s) - t0 )) s"
fi
if [[ $SKIP_BUILD == 0 ]]; then
  if in_list bare "$ONLY_TARGETS"; then
    log "cargo build --release (loadtest/baseline: bare Pingora)"
    t0=$(date +%s)
    CARGO_TARGET_DIR=$BARE_TARGET cargo build --release --locked --manifest-path "$LT/baseline/Cargo.toml" >"$LOGS/build-baseline.log" 2>&1 \
      || { tail -n 40 "$LOGS/build-baseline.log" >&2; die "baseline build failed"; }
    log "bare Pingora built in $(( $(date +%s) - t0 )) s"
  fi
fi
[[ -x $SY_BIN ]] || die "missing $SY_BIN"

OHA=""
if [[ -x $TOOLS/bin/oha ]] && "$TOOLS/bin/oha" --version 2>/dev/null | grep -q " $OHA_VERSION"; then
  OHA=$TOOLS/bin/oha
elif command -v oha >/dev/null && oha --version 2>/dev/null | grep -q " $OHA_VERSION"; then
  OHA=$(command -v oha)
else
  log "cargo install oha $OHA_VERSION --locked (into $TOOLS)"
  t0=$(date +%s)
  cargo install oha --locked --version "$OHA_VERSION" --root "$TOOLS" >"$LOGS/install-oha.log" 2>&1 \
    || { tail -n 40 "$LOGS/install-oha.log" >&2; die "oha install failed"; }
  log "oha installed in $(( $(date +%s) - t0 )) s"
  OHA=$TOOLS/bin/oha
fi

NGINX=""
if in_list nginx "$ONLY_TARGETS"; then
  NGINX=$(command -v nginx || true)
  [[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
  if [[ -z $NGINX ]]; then
    log "apt-get install nginx-light"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -q --no-install-recommends nginx-light \
        || { apt-get update -q && { apt-get install -y -q --no-install-recommends nginx-light \
              || apt-get install -y -q --no-install-recommends nginx; }; }; } >"$LOGS/install-nginx.log" 2>&1 \
      || { tail -n 20 "$LOGS/install-nginx.log" >&2; die "nginx install failed"; }
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  fi
fi

LL_VENV=$TARGET_DIR/loadtest-litellm-$LITELLM_VERSION
if [[ $WITH_LITELLM == 1 ]] && in_list litellm "$ONLY_TARGETS"; then
  if ! [[ -x $LL_VENV/bin/litellm ]] || ! "$LL_VENV/bin/python" -c "import litellm, sys; from importlib.metadata import version; sys.exit(version('litellm') != '$LITELLM_VERSION')" 2>/dev/null; then
    log "pip install litellm[proxy]==$LITELLM_VERSION (venv $LL_VENV)"
    t0=$(date +%s)
    { "$PY" -m venv "$LL_VENV" && "$LL_VENV/bin/pip" install -q --disable-pip-version-check "litellm[proxy]==$LITELLM_VERSION"; } \
      >"$LOGS/install-litellm.log" 2>&1 || { tail -n 30 "$LOGS/install-litellm.log" >&2; die "LiteLLM install failed"; }
    log "LiteLLM installed in $(( $(date +%s) - t0 )) s"
  fi
  # The March 2026 compromised releases dropped a litellm_init.pth; refuse any venv that has one.
  if compgen -G "$LL_VENV/lib/python*/site-packages/litellm_init.pth" >/dev/null; then
    die "$LL_VENV contains litellm_init.pth (compromised LiteLLM release): delete the venv"
  fi
else
  WITH_LITELLM=0
fi

# ------------------------------------------------------------------ bodies, configs
BODIES=$OUT/bodies
BODY_50K_BYTES=$("$PY" "$LT/lt.py" bodies "$FIXTURES" "$BODIES")
MODEL_50K=$(cat "$BODIES/anth-50k.model")
mapfile -t HDRS_50K <"$BODIES/anth-50k.headers"
TEAM_KEY="sk-bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export BENCH_TEAM_KEY=$TEAM_KEY

mkdir -p "$OUT/conf"
cat >"$OUT/conf/switchyard.yaml" <<EOF
# switchyard under load: everything to the mock provider, one worker thread (as nginx and bare Pingora).
listen: { proxy: "127.0.0.1:$SY_PORT", admin: "127.0.0.1:$SY_ADMIN_PORT" }
server: { threads: 1, drain_delay_seconds: 0, grace_period_seconds: 1 }
providers:
  anth: { kind: anthropic, base_url: "http://127.0.0.1:$MOCK_PORT", keys: ["sk-ant-loadtest"] }
  oai:  { kind: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", keys: ["sk-oai-loadtest"] }
models:
  - { name: "claude-*", targets: ["anth/*"] }
  - { name: "gpt-*", targets: ["oai/*"] }
  - { name: "glm", targets: ["oai/z-ai/glm-4.5-air"] }
teams:
  - { name: bench, keys: [{ env: BENCH_TEAM_KEY }] }
EOF

mkdir -p "$OUT/nginx/tmp"
cat >"$OUT/nginx/nginx.conf" <<EOF
# nginx as a plain LLM reverse proxy: one worker, upstream keepalive pool, no buffering (SSE streams through).
user root root;
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
pid $OUT/nginx/nginx.pid;
error_log $LOGS/nginx-error.log warn;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $OUT/nginx/tmp/body;
  proxy_temp_path $OUT/nginx/tmp/proxy;
  client_max_body_size 64m;
  client_body_buffer_size 256k;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  upstream mock {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
EOF

cat >"$OUT/conf/litellm.yaml" <<EOF
# LiteLLM proxy with the same models, all to the mock provider.
model_list:
  - model_name: claude-sonnet-4-5
    litellm_params: { model: anthropic/claude-sonnet-4-5, api_base: "http://127.0.0.1:$MOCK_PORT", api_key: sk-ant-loadtest }
  - model_name: $MODEL_50K
    litellm_params: { model: anthropic/$MODEL_50K, api_base: "http://127.0.0.1:$MOCK_PORT", api_key: sk-ant-loadtest }
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$MOCK_PORT/v1", api_key: sk-oai-loadtest }
  - model_name: glm
    litellm_params: { model: openai/z-ai/glm-4.5-air, api_base: "http://127.0.0.1:$MOCK_PORT/v1", api_key: sk-oai-loadtest }
litellm_settings:
  drop_params: true
  telemetry: false
  turn_off_message_logging: true
  request_timeout: 600
general_settings:
  master_key: $TEAM_KEY
  forward_client_headers_to_llm_api: true
EOF

# ------------------------------------------------------------------ start everything
start_proc mock "$SY_BIN" mock --listen "127.0.0.1:$MOCK_PORT" --chunks "$ANTH_CHUNKS"
wait_http mock "http://127.0.0.1:$MOCK_PORT/mock/stats" "$PID_mock" 30

start_switchyard() {
  start_proc switchyard env RUST_LOG=warn "$SY_BIN" run --config "$OUT/conf/switchyard.yaml"
  wait_http switchyard "http://127.0.0.1:$SY_PORT/healthz" "$PID_switchyard" 30
}
start_nginx() {
  start_proc nginx "$NGINX" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -e "$LOGS/nginx-error.log"
  wait_http nginx "http://127.0.0.1:$NGINX_PORT/mock/stats" "$PID_nginx" 30
}
start_bare() {
  start_proc bare env BASELINE_LISTEN="127.0.0.1:$BARE_PORT" BASELINE_UPSTREAM="127.0.0.1:$MOCK_PORT" BASELINE_THREADS=1 \
    BASELINE_POOL_SIZE=128 "$BARE_BIN"
  wait_http bare "http://127.0.0.1:$BARE_PORT/mock/stats" "$PID_bare" 30
}
start_litellm() {
  # LITELLM_USE_CHAT_COMPLETIONS_URL_FOR_ANTHROPIC_MESSAGES: /v1/messages for an OpenAI-format model goes to
  # chat completions (as OpenRouter/Ollama-style providers need), not to OpenAI's Responses API.
  start_proc litellm env LITELLM_USE_CHAT_COMPLETIONS_URL_FOR_ANTHROPIC_MESSAGES=True LITELLM_LOCAL_MODEL_COST_MAP=True \
    LITELLM_LOG=ERROR LITELLM_TELEMETRY=False DISABLE_ADMIN_UI=True NO_DOCS=True NO_REDOC=True DO_NOT_TRACK=1 PYTHONUNBUFFERED=1 \
    "$LL_VENV/bin/litellm" --config "$OUT/conf/litellm.yaml" --host 127.0.0.1 --port "$LL_PORT" --num_workers 1
  wait_http litellm "http://127.0.0.1:$LL_PORT/health/liveliness" "$PID_litellm" 180
}

start_switchyard
if in_list nginx "$ONLY_TARGETS"; then
  "$NGINX" -t -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -e "$LOGS/nginx-error.log" >"$LOGS/nginx-t.log" 2>&1 \
    || { cat "$LOGS/nginx-t.log" >&2; die "nginx config test failed"; }
  start_nginx
fi
if in_list bare "$ONLY_TARGETS"; then
  [[ -x $BARE_BIN ]] || die "missing $BARE_BIN (run without --no-build)"
  start_bare
fi

target_pid() {
  case $1 in
    direct) echo "$PID_mock" ;; nginx) echo "$PID_nginx" ;; bare) echo "$PID_bare" ;;
    switchyard) echo "$PID_switchyard" ;; litellm) echo "$PID_litellm" ;;
  esac
}
target_base() {
  case $1 in
    direct) echo "http://127.0.0.1:$MOCK_PORT" ;; nginx) echo "http://127.0.0.1:$NGINX_PORT" ;;
    bare) echo "http://127.0.0.1:$BARE_PORT" ;; switchyard) echo "http://127.0.0.1:$SY_PORT" ;;
    litellm) echo "http://127.0.0.1:$LL_PORT" ;;
  esac
}
target_enabled() {
  in_list "$1" "$ONLY_TARGETS" || return 1
  [[ $1 == litellm && $WITH_LITELLM != 1 ]] && return 1
  return 0
}

# ------------------------------------------------------------------ scenarios
ANTH_HDRS=(-H "x-api-key: $TEAM_KEY" -H "anthropic-version: 2023-06-01" -H "content-type: application/json")
OAI_HDRS=(-H "authorization: Bearer $TEAM_KEY" -H "content-type: application/json")

scenario() { # sets S_PATH S_BODY S_SSE S_TARGETS S_HDRS[] for scenario $1
  S_HDRS=()
  case $1 in
    anth-json-small)
      S_PATH=/v1/messages; S_BODY=$BODIES/anth-small.json; S_SSE=0; S_TARGETS="direct nginx bare switchyard litellm"
      S_HDRS=("${ANTH_HDRS[@]}") ;;
    anth-json-50k)
      S_PATH='/v1/messages?beta=true'; S_BODY=$BODIES/anth-50k.json; S_SSE=0; S_TARGETS="direct nginx bare switchyard litellm"
      S_HDRS=(-H "x-api-key: $TEAM_KEY")
      local h; for h in "${HDRS_50K[@]}"; do S_HDRS+=(-H "$h"); done ;;
    anth-sse)
      S_PATH=/v1/messages; S_BODY=$BODIES/anth-stream.json; S_SSE=1; S_TARGETS="direct nginx bare switchyard litellm"
      S_HDRS=("${ANTH_HDRS[@]}" -H "x-mock-chunks: $ANTH_CHUNKS") ;;
    oai-sse)
      S_PATH=/v1/chat/completions; S_BODY=$BODIES/oai-stream.json; S_SSE=1; S_TARGETS="direct nginx bare switchyard litellm"
      S_HDRS=("${OAI_HDRS[@]}" -H "x-mock-chunks: $OAI_CHUNKS") ;;
    translated-sse)
      # direct/nginx/bare get the same request and the mock answers it natively (Anthropic SSE, no translation):
      # the pass-through reference measured in the same rounds as switchyard's translation.
      S_PATH=/v1/messages; S_BODY=$BODIES/translated-stream.json; S_SSE=1; S_TARGETS="direct nginx bare switchyard litellm"
      S_HDRS=("${ANTH_HDRS[@]}" -H "x-mock-chunks: $ANTH_CHUNKS") ;;
    long-streams)
      S_PATH=/v1/messages; S_BODY=$BODIES/anth-stream.json; S_SSE=1; S_TARGETS="direct nginx bare switchyard litellm"
      S_HDRS=("${ANTH_HDRS[@]}" -H "x-mock-chunks: $ANTH_CHUNKS" -H "x-mock-delay-ms: $STREAM_DELAY_MS") ;;
    *) die "unknown scenario $1" ;;
  esac
}

curl_hdrs() { # oha's -H list → curl's -H list (same flag)
  printf '%s\0' "${S_HDRS[@]}"
}

declare -A EVENTS
check_once() { # check_once SCEN TARGET — one request with curl: 2xx, and for SSE a complete stream; records events
  local scen=$1 t=$2 base out code
  base=$(target_base "$t")
  out=$OUT/check/$scen-$t
  local -a hdrs; mapfile -d '' -t hdrs < <(curl_hdrs)
  # long-streams: check with the drip delay off, to keep it short
  local -a filtered=()
  local i
  for ((i = 0; i < ${#hdrs[@]}; i++)); do
    if [[ ${hdrs[i]} == -H && ${hdrs[i+1]:-} == x-mock-delay-ms:* ]]; then i=$((i + 1)); continue; fi
    filtered+=("${hdrs[i]}")
  done
  code=$(curl -sS -N -m 60 -o "$out.body" -D "$out.headers" -w '%{http_code}' -X POST "${filtered[@]}" \
    --data-binary "@$S_BODY" "$base$S_PATH" 2>"$out.err" || true)
  if [[ ! $code =~ ^2 ]]; then
    log "check $scen/$t: HTTP $code: $(head -c 400 "$out.body" 2>/dev/null) $(cat "$out.err")"
    return 1
  fi
  if [[ $S_SSE == 1 ]]; then
    local n state
    read -r n state < <("$PY" "$LT/lt.py" sse "$out.body")
    EVENTS[$scen/$t]=$n
    if [[ $state != ok ]]; then log "check $scen/$t: stream not terminated ($n events)"; return 1; fi
  else
    EVENTS[$scen/$t]=1
  fi
  return 0
}

RESULTS=$OUT/results.jsonl
: >"$RESULTS"

record() { # record JSON-FIELDS... — one line in results.jsonl
  "$PY" - "$RESULTS" "$@" <<'PYEOF'
import json, sys
path, *kv = sys.argv[1:]
rec = {}
for item in kv:
    k, _, v = item.partition("=")
    try:
        rec[k] = json.loads(v)
    except ValueError:
        rec[k] = v
if "oha" in rec:
    rec.update(rec.pop("oha"))
with open(path, "a", encoding="utf-8") as f:
    f.write(json.dumps(rec) + "\n")
PYEOF
}

run_oha() { # run_oha OUTJSON URL [oha args...] — bounded by timeout
  local out=$1 url=$2; shift 2
  local budget=$(( $(dur_secs "$DURATION") + 120 ))
  timeout -k 5 "$budget" "$OHA" --no-tui --output-format json -o "$out" -m POST "${S_HDRS[@]}" -D "$S_BODY" "$@" "$url" \
    >>"$LOGS/oha.log" 2>&1
}

throughput_run() { # throughput_run SCEN TARGET RUN
  local scen=$1 t=$2 run=$3 base pid out sampler flag
  base=$(target_base "$t"); pid=$(target_pid "$t")
  out=$OUT/oha/$scen-$t-$run.json
  flag=$OUT/.sampling-$scen-$t-$run
  : >"$flag"
  ( max=0; n=0
    while [[ -e $flag && $n -lt 4000 ]]; do
      r=$(rss_kib "$pid"); ((r > max)) && max=$r; echo "$max" >"$flag.rss"; sleep 0.25; n=$((n + 1))
    done ) &
  sampler=$!
  TMP_PIDS+=("$sampler")
  local ok=1 cpu0 cpu1
  cpu0=$(cpu_ticks "$pid")
  run_oha "$out" "$base$S_PATH" -c "$CONC" -z "$DURATION" -w || ok=0
  cpu1=$(cpu_ticks "$pid")
  rm -f "$flag"; wait "$sampler" 2>/dev/null || true
  local rss; rss=$(cat "$flag.rss" 2>/dev/null || echo 0); rm -f "$flag.rss"
  if [[ $ok == 1 && -s $out ]]; then
    local s; s=$("$PY" "$LT/lt.py" oha "$out")
    record scenario="$scen" target="$t" run="$run" rss_kib_max="$rss" cpu_s="$("$PY" -c "print(($cpu1 - $cpu0) / $CLK_TCK)")" events="${EVENTS[$scen/$t]:-null}" oha="$s"
    log "$(printf '%-16s %-10s run %s: %s' "$scen" "$t" "$run" "$("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print("%9.0f rps  p50 %7.2f ms  p99 %7.2f ms  non2xx %d  errors %d" % (d["rps"], d["p50_ms"], d["p99_ms"], d["non2xx"], d["errors"]))' "$s")")"
  else
    record scenario="$scen" target="$t" run="$run" failed="\"oha did not finish (see logs/oha.log)\""
    log "$scen $t run $run: oha failed"
  fi
}

streams_run() { # streams_run TARGET RUN — STREAMS concurrent dripping streams; RSS before, while all are open, after
  local t=$1 run=$2 base pid out
  base=$(target_base "$t")
  out=$OUT/oha/long-streams-$t-$run.json
  # A fresh process for every run (the allocator keeps what a previous wave of streams freed, so a reused process
  # would hide the growth), warmed up with the same requests undelayed, so "before" is a warm, idle gateway.
  # The mock (the direct target) is not restarted: the proxies keep pooled connections to it.
  if [[ $t != direct ]]; then
    stop_pid "$(target_pid "$t")" "$t"
    "start_$t"
  fi
  pid=$(target_pid "$t")
  local -a warm=() i
  for ((i = 0; i < ${#S_HDRS[@]}; i++)); do
    if [[ ${S_HDRS[i]} == -H && ${S_HDRS[i+1]:-} == x-mock-delay-ms:* ]]; then i=$((i + 1)); continue; fi
    warm+=("${S_HDRS[i]}")
  done
  timeout -k 5 60 "$OHA" --no-tui --output-format quiet -m POST "${warm[@]}" -D "$S_BODY" -c "$CONC" -z "${WARMUP:-1s}" -w \
    "$base$S_PATH" >>"$LOGS/oha.log" 2>&1 || true
  sleep 1
  local before; before=$(rss_kib "$pid")
  local reqs0 stats=$OUT/.stats.json
  curl -fsS -m 2 -o "$stats" "http://127.0.0.1:$MOCK_PORT/mock/stats" 2>/dev/null || true
  reqs0=$("$PY" "$LT/lt.py" stats "$stats" requests 2>/dev/null || echo 0)
  local stream_secs=$(( (20 * STREAM_DELAY_MS + 999) / 1000 ))
  local budget=$(( stream_secs + 150 ))
  timeout -k 5 "$budget" "$OHA" --no-tui --output-format json -o "$out" -m POST "${S_HDRS[@]}" -D "$S_BODY" \
    -c "$STREAMS" -n "$STREAMS" -t 300s --connect-timeout 30s "$base$S_PATH" >>"$LOGS/oha.log" 2>&1 &
  local oha_pid=$!
  TMP_PIDS+=("$oha_pid")
  # wait until all STREAMS requests have reached the mock (each then stays open for 20 × the delay)
  local open=0 reqs=0
  for ((i = 0; i < 600; i++)); do
    curl -fsS -m 2 -o "$stats" "http://127.0.0.1:$MOCK_PORT/mock/stats" 2>/dev/null || true
    reqs=$("$PY" "$LT/lt.py" stats "$stats" requests 2>/dev/null || echo 0)
    (( reqs - reqs0 >= STREAMS )) && break
    alive "$oha_pid" || break
    sleep 0.1
  done
  local during=0 r j
  for ((j = 0; j < 4; j++)); do
    r=$(rss_kib "$pid"); ((r > during)) && during=$r
    sleep 0.25
  done
  curl -fsS -m 2 -o "$stats" "http://127.0.0.1:$MOCK_PORT/mock/stats" 2>/dev/null || true
  open=$("$PY" "$LT/lt.py" stats "$stats" open_connections 2>/dev/null || echo 0)
  local opened_at_sample=$(( reqs - reqs0 ))
  wait "$oha_pid" || true
  sleep 1
  local after; after=$(rss_kib "$pid")
  local per
  per=$("$PY" -c "import sys; b,d,n=map(int,sys.argv[1:]); print(round((d-b)/n,2) if n else 'null')" "$before" "$during" "$STREAMS")
  if [[ -s $out ]]; then
    local s; s=$("$PY" "$LT/lt.py" oha "$out")
    record scenario=long-streams target="$t" run="$run" streams="$STREAMS" opened="$opened_at_sample" mock_open_connections="$open" \
      rss_before_kib="$before" rss_during_kib="$during" rss_after_kib="$after" per_stream_kib="$per" oha="$s"
    log "long-streams     $(printf '%-10s' "$t") run $run: $opened_at_sample streams, RSS $((before / 1024)) → $((during / 1024)) MiB = $per KiB/stream; $((after / 1024)) MiB after they closed"
  else
    record scenario=long-streams target="$t" run="$run" failed="\"oha did not finish\""
  fi
  if ((opened_at_sample < STREAMS)); then
    log "long-streams $t: only $opened_at_sample of $STREAMS streams had reached the mock when RSS was sampled"
  fi
}

SCEN_LIST=()
for s in "${ALL_SCENARIOS[@]}"; do in_list "$s" "$ONLY_SCEN" && SCEN_LIST+=("$s"); done

# One pass over the scenarios for a set of targets: a curl check of each, then warm-up and RUNS interleaved runs.
run_pass() { # run_pass "TARGETS"
  local only=$1 scen t run check_failed=0 k
  log "checking every scenario once (${only// /, })"
  for scen in "${SCEN_LIST[@]}"; do
    [[ $scen == cost-routing ]] && continue
    scenario "$scen"
    for t in $S_TARGETS; do
      [[ " $only " == *" $t "* ]] && target_enabled "$t" || continue
      check_once "$scen" "$t" || check_failed=1
      [[ ${EVENTS[$scen/$t]:-1} != 1 ]] && log "events per response: $scen/$t = ${EVENTS[$scen/$t]}"
    done
  done
  [[ $check_failed == 0 ]] || die "a scenario failed its first request (see above and $OUT/check)"
  for scen in "${SCEN_LIST[@]}"; do
    [[ $scen == cost-routing ]] && continue
    scenario "$scen"
    if [[ $scen == long-streams ]]; then
      for ((run = 1; run <= RUNS; run++)); do
        for t in $S_TARGETS; do
          [[ " $only " == *" $t "* ]] && target_enabled "$t" || continue
          # LiteLLM: one run only (its streams are slow to open and this is informative, not a target)
          [[ $t == litellm && $run -gt 1 ]] && continue
          streams_run "$t" "$run"
        done
      done
      continue
    fi
    if [[ -n $WARMUP ]]; then
      for t in $S_TARGETS; do
        [[ " $only " == *" $t "* ]] && target_enabled "$t" || continue
        timeout -k 5 60 "$OHA" --no-tui --output-format quiet -m POST "${S_HDRS[@]}" -D "$S_BODY" -c "$CONC" -z "$WARMUP" -w \
          "$(target_base "$t")$S_PATH" >>"$LOGS/oha.log" 2>&1 || true
      done
    fi
    for ((run = 1; run <= RUNS; run++)); do
      for t in $S_TARGETS; do
        [[ " $only " == *" $t "* ]] && target_enabled "$t" || continue
        throughput_run "$scen" "$t" "$run"
        sleep 0.5
      done
    done
  done
}

# The Rust/nginx targets first, with LiteLLM not running at all (a Python process finishing its backlog after a
# run would take CPU from the next target); then LiteLLM on its own.
run_pass "direct nginx bare switchyard"
if [[ $WITH_LITELLM == 1 ]]; then
  start_litellm
  run_pass "litellm"
  stop_pid "$PID_litellm" litellm
fi

# ------------------------------------------------------------------ cost routing
COST_MD=$OUT/cost-routing.md
cost_rc=0
if in_list cost-routing "$ONLY_SCEN" && target_enabled switchyard; then
  # cost_routing.py starts its own mocks (a fresh prompt cache per policy) and two gateways on COST_PORT..+3, and stops them.
  log "cost routing: $COST_SESSIONS Claude Code sessions per policy (all-Claude, conf/claude-code-team.yaml)"
  timeout -k 5 1800 "$PY" "$LT/cost_routing.py" --bin "$SY_BIN" --fixtures "$FIXTURES" --sessions "$COST_SESSIONS" \
    --port-base "$COST_PORT" --out "$COST_MD" >"$LOGS/cost-routing.log" 2>&1 || cost_rc=$?
  grep -E '^\| (all-Claude|shipped)|^\*\*Saving' "$COST_MD" >&2 2>/dev/null || true
  [[ $cost_rc == 0 ]] || { tail -n 20 "$LOGS/cost-routing.log" >&2; log "cost routing had errors (see $LOGS/cost-routing.log)"; }
fi

# ------------------------------------------------------------------ report
rev_of_head() { # the commit the work tree is on, read from .git without running git
  local g=$ROOT/.git ref
  [[ -f $g ]] && g=$(sed -n 's/^gitdir: //p' "$g")
  [[ -f $g/HEAD ]] || { echo unknown; return; }
  ref=$(cat "$g/HEAD")
  if [[ $ref == ref:* ]]; then
    ref=${ref#ref: }
    if [[ -f $g/$ref ]]; then cut -c1-12 "$g/$ref"
    else awk -v r="$ref" '$2 == r {print substr($1, 1, 12)}' "$g/packed-refs" 2>/dev/null || echo unknown; fi
  else
    echo "${ref:0:12}"
  fi
}

META=$OUT/meta.json
"$PY" - "$META" <<PYEOF
import json, os, platform, subprocess, sys
def sh(cmd):
    try:
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20)
        return (r.stdout.strip() + " " + r.stderr.strip()).strip()
    except Exception:
        return ""
cpu = ""
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
mem = ""
with open("/proc/meminfo") as f:
    for line in f:
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"; break
pingora = sh("awk '/^name = \"pingora\"\$/ {getline; gsub(/\"/, \"\", \$3); print \$3; exit}' '$ROOT/Cargo.lock'")
meta = {
  "mode": "$MODE",
  "command": os.environ.get("LT_CMDLINE", "bash loadtest/run.sh"),
  "date": sh("date -u '+%Y-%m-%d %H:%M UTC'"),
  "machine": f"{os.cpu_count()} CPUs (nproc {sh('nproc')}), {platform.machine()}",
  "cpu": cpu,
  "memory": mem,
  "kernel": platform.release(),
  "switchyard": "git rev $(rev_of_head) (HEAD of the work tree when run; uncommitted edits, if any, included), " + ("binary $SY_BIN (LOADTEST_SWITCHYARD_BIN)" if "${LOADTEST_SWITCHYARD_BIN:-}" else "release profile"),
  "pingora": f"{pingora} (switchyard and loadtest/baseline, same Cargo.lock versions)",
  "nginx": sh("'${NGINX:-nginx}' -v 2>&1") if "${NGINX}" else "",
  "oha": sh("'$OHA' --version"),
  "litellm": ("litellm[proxy] $LITELLM_VERSION, " + sh("'$LL_VENV/bin/python' --version") + ", 1 uvicorn worker") if "$WITH_LITELLM" == "1" else "not run",
  "settings": "oha -c $CONC -z $DURATION -w, $RUNS run(s) per target, 1 worker thread/process for every proxy; mock: \`switchyard mock\` (tokio, $(nproc) threads); long streams: $STREAMS × 20 events, $STREAM_DELAY_MS ms apart",
  "out_dir": "$OUT",
  "out_dir_rel": os.path.relpath("$OUT", "$ROOT"),
  "notes_file": "$LT/NOTES.md",
  "cost_file": "$COST_MD",
  "scenario_order": ["anth-json-small", "anth-json-50k", "anth-sse", "oai-sse", "translated-sse", "long-streams"],
  "scenarios": {
    "anth-json-small": {"title": "Anthropic JSON pass-through, small body", "kind": "passthrough",
      "desc": "\`POST /v1/messages\`, $(wc -c <"$BODIES/anth-small.json") B body, \`claude-sonnet-4-5\` → provider \`anth\` (Anthropic) → mock, JSON reply."},
    "anth-json-50k": {"title": "Anthropic JSON pass-through, real 50 KB Claude Code body", "kind": "passthrough",
      "desc": "\`POST /v1/messages?beta=true\` with the first-turn Claude Code request (\`01-opus-stream-first-turn.json\`, compact, \`stream\` set to false: $BODY_50K_BYTES B) and its headers."},
    "anth-sse": {"title": "Anthropic SSE pass-through (20 events)", "kind": "passthrough",
      "desc": "\`POST /v1/messages\` with \`stream: true\`, \`x-mock-chunks: $ANTH_CHUNKS\` → 20 SSE events per response, no delay."},
    "oai-sse": {"title": "OpenAI SSE pass-through (20 events)", "kind": "passthrough",
      "desc": "\`POST /v1/chat/completions\` with \`stream: true\`, \`gpt-4o-mini\` → provider \`oai\`, \`x-mock-chunks: $OAI_CHUNKS\` → 20 data lines per response (\`[DONE]\` included)."},
    "translated-sse": {"title": "Anthropic → OpenAI translated SSE", "kind": "translated",
      "desc": "\`POST /v1/messages\` (Anthropic, \`stream: true\`) for model \`glm\` → \`oai/z-ai/glm-4.5-air\`: switchyard translates the request to chat completions and the upstream's chunk stream back to Anthropic events (20 of them). LiteLLM does the same through its \`/v1/messages\` endpoint. The mock, nginx and bare Pingora cannot translate: they get the same request and the mock answers it natively with an Anthropic stream of the same 20 events, so their rows are the pass-through reference measured in the same rounds."},
    "long-streams": {"title": "Many concurrent long-lived streams: memory per open stream",
      "desc": "$STREAMS concurrent \`/v1/messages\` streams (one connection each), each dripping 20 events $STREAM_DELAY_MS ms apart (\`x-mock-delay-ms\`). Every run starts a fresh target process (the mock excepted) and warms it up with the same requests undelayed; RSS is sampled when it is idle (before), as soon as all $STREAMS requests have reached the mock while all are still open (during: largest of 4 samples over 1 s), and 1 s after the streams closed (after); KiB per stream = (during − before) / $STREAMS. The streams column counts the requests that had reached the mock at that moment (LiteLLM opens them so slowly that the first ones have finished by then). Median of the runs (LiteLLM: one run)."},
  },
}
with open(sys.argv[1], "w") as f:
    json.dump(meta, f, indent=1)
PYEOF

if [[ -z $RESULTS_FILE ]]; then
  if [[ $MODE == full && -z $ONLY_SCEN && -z $ONLY_TARGETS ]]; then RESULTS_FILE=$LT/RESULTS.md; else RESULTS_FILE=$OUT/RESULTS.md; fi
fi
report_rc=0
"$PY" "$LT/lt.py" report "$RESULTS" "$META" "$RESULTS_FILE" || report_rc=$?
log "report: $RESULTS_FILE"
if [[ $report_rc != 0 || $cost_rc != 0 ]]; then
  die "some runs had errors or non-2xx responses (listed above)"
fi
if [[ $MODE == smoke ]]; then
  log "smoke OK: every scenario completed with zero errors and zero non-2xx responses"
fi

exit 0
}
