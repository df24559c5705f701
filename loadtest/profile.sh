#!/usr/bin/env bash
# Where does switchyard (or the bare Pingora baseline) spend its CPU in one load-test scenario?
#
#   bash loadtest/profile.sh [switchyard|bare] [anth-json-small|anth-json-50k|anth-sse|oai-sse|translated-sse] [SECONDS]
#
# Starts the mock provider and the target (same configs as run.sh, on ports base+21..+24), drives the scenario
# with oha -c 32 while `perf record` samples the target, and prints the hottest symbols (flat, and inclusive
# with call graphs). Needs the release binaries and oha that `bash loadtest/run.sh --smoke` builds/installs, and
# `perf` (Debian: linux-perf). Output: loadtest/out/profile-<target>-<scenario>/ (perf.data, report.txt).
# Everything started here is stopped on exit.
set -euo pipefail

TARGET=${1:-switchyard}
SCEN=${2:-anth-json-small}
SECS=${3:-6}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LT=$ROOT/loadtest
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OHA=${OHA:-$TARGET_DIR/loadtest-tools/bin/oha}
SY_BIN=$TARGET_DIR/release/switchyard
BARE_BIN=$TARGET_DIR/loadtest-baseline/release/bare-pingora
OUT=$LT/out/profile-$TARGET-$SCEN
BASE=${LOADTEST_PORT_BASE:-18300}
MOCK_PORT=$((BASE + 21)) SY_PORT=$((BASE + 22)) SY_ADMIN=$((BASE + 23)) BARE_PORT=$((BASE + 24))
FIXTURES=${LOADTEST_FIXTURES:-$ROOT/tests/fixtures/claude-code}
for f in "$OHA" "$SY_BIN"; do [[ -x $f ]] || { echo "missing $f: run bash loadtest/run.sh --smoke first" >&2; exit 1; }; done
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$OUT"

PIDS=()
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]:-}"; do [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [[ -n $pid ]] && { timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }; done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_up() { local i; for ((i = 0; i < 100; i++)); do curl -fsS -m 1 -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

python3 "$LT/lt.py" bodies "$FIXTURES" "$OUT/bodies" >/dev/null
export BENCH_TEAM_KEY=sk-bench-profile
cat >"$OUT/switchyard.yaml" <<EOF
listen: { proxy: "127.0.0.1:$SY_PORT", admin: "127.0.0.1:$SY_ADMIN" }
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

"$SY_BIN" mock --listen "127.0.0.1:$MOCK_PORT" >"$OUT/mock.log" 2>&1 </dev/null &
PIDS+=($!)
wait_up "http://127.0.0.1:$MOCK_PORT/mock/stats"
if [[ $TARGET == bare ]]; then
  BASELINE_LISTEN=127.0.0.1:$BARE_PORT BASELINE_UPSTREAM=127.0.0.1:$MOCK_PORT "$BARE_BIN" >"$OUT/target.log" 2>&1 </dev/null &
  TPID=$!; URL=http://127.0.0.1:$BARE_PORT
else
  SWITCHYARD_DATA_DIR="$OUT/data" RUST_LOG=warn "$SY_BIN" run --config "$OUT/switchyard.yaml" >"$OUT/target.log" 2>&1 </dev/null &
  TPID=$!; URL=http://127.0.0.1:$SY_PORT
fi
PIDS+=("$TPID")
if [[ $TARGET == bare ]]; then wait_up "$URL/mock/stats"; else wait_up "$URL/healthz"; fi

A=(-H "x-api-key: $BENCH_TEAM_KEY" -H "anthropic-version: 2023-06-01" -H "content-type: application/json")
case $SCEN in
  anth-json-small) P=/v1/messages; B=anth-small.json; H=("${A[@]}") ;;
  anth-json-50k) P='/v1/messages?beta=true'; B=anth-50k.json; H=("${A[@]}") ;;
  anth-sse) P=/v1/messages; B=anth-stream.json; H=("${A[@]}" -H "x-mock-chunks: 14") ;;
  oai-sse) P=/v1/chat/completions; B=oai-stream.json; H=(-H "authorization: Bearer $BENCH_TEAM_KEY" -H "content-type: application/json" -H "x-mock-chunks: 17") ;;
  translated-sse) P=/v1/messages; B=translated-stream.json; H=("${A[@]}" -H "x-mock-chunks: 14") ;;
  *) echo "unknown scenario $SCEN" >&2; exit 2 ;;
esac

timeout 120 "$OHA" --no-tui --output-format json -o "$OUT/oha.json" -m POST "${H[@]}" -D "$OUT/bodies/$B" -c 32 -z "$((SECS + 3))s" -w "$URL$P" \
  >"$OUT/oha.log" 2>&1 &
OHA_PID=$!
PIDS+=("$OHA_PID")
sleep 1.5
perf record -e cpu-clock -F 1999 --call-graph dwarf,32768 -p "$TPID" -o "$OUT/perf.data" -- sleep "$SECS" >"$OUT/perf-record.log" 2>&1
wait "$OHA_PID" || true
python3 "$LT/lt.py" oha "$OUT/oha.json" | tee "$OUT/oha-summary.json"
{
  echo "### flat (self time), $TARGET, $SCEN"
  perf report -i "$OUT/perf.data" --no-children --sort symbol --stdio --percent-limit 0.7 -g none 2>/dev/null | grep -E '^ +[0-9]'
  echo
  echo "### inclusive (children), $TARGET, $SCEN"
  perf report -i "$OUT/perf.data" --children --sort symbol --stdio --percent-limit 2 -g none 2>/dev/null | grep -E '^ +[0-9]'
} >"$OUT/report.txt"
cat "$OUT/report.txt"
