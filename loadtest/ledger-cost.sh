#!/usr/bin/env bash
# What the usage ledger costs per request, in user-space instructions (valgrind; see MEASURING.md):
# the embedded default config as shipped (usage ledger on, SQLite under SWITCHYARD_DATA_DIR) against
# the same config with `usage: { store: none }` (usage still extracted and counted in the metrics,
# nothing stored), on the small Anthropic JSON pass-through (156 B body) and the 50 KB Claude Code
# first turn. Upstream: `switchyard mock` (release build).
#
# usage: loadtest/ledger-cost.sh        (needs target/release/switchyard, valgrind, oha 1.16.0)
#   env: N1, N2, CONC as instructions-per-request.sh; OHA (default target/loadtest-tools/bin/oha)
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/target/release/switchyard"
[ -x "$bin" ] || { echo "build first: cargo build --release --locked" >&2; exit 1; }
export PATH="$root/target/loadtest-tools/bin:$PATH"
command -v oha >/dev/null || { echo "needs oha (cargo install oha --locked --version 1.16.0 --root target/loadtest-tools)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'kill "$mock_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$root/loadtest/lt.py" bodies "$root/tests/fixtures/claude-code" "$work/bodies" >/dev/null
sed 's#^  store: .*#  store: none#' "$root/conf/default.yaml" > "$work/store-none.yaml"
grep -q '^  store: none$' "$work/store-none.yaml"

mock_port=18490
"$bin" mock --listen "127.0.0.1:$mock_port" >/dev/null 2>&1 &
mock_pid=$!
sleep 0.5

measure() {
  local label="$1" body="$2" headers="$3"; shift 3
  rm -rf "$work/data"; mkdir -p "$work/data"
  local result
  result=$(HEADERS="$headers" SWITCHYARD_TEAM_KEY=k ANTHROPIC_API_KEY=sk-ant-x ANTHROPIC_BASE_URL="http://127.0.0.1:$mock_port" \
    SWITCHYARD_LISTEN=127.0.0.1:18491 SWITCHYARD_METRICS_LISTEN=127.0.0.1:18492 SWITCHYARD_DATA_DIR="$work/data" RUST_LOG=error \
    "$root/loadtest/instructions-per-request.sh" 18491 /v1/messages "$body" -- "$bin" "$@")
  echo "$label: $result"
}

small_headers=$'x-api-key: k\nanthropic-version: 2023-06-01'
cc_headers="x-api-key: k
$(cat "$work/bodies/anth-50k.headers")"
measure "small JSON, ledger (SQLite)" "$work/bodies/anth-small.json" "$small_headers" run
measure "small JSON, store: none" "$work/bodies/anth-small.json" "$small_headers" run --config "$work/store-none.yaml"
measure "50 KB Claude Code, ledger (SQLite)" "$work/bodies/anth-50k.json" "$cc_headers" run
measure "50 KB Claude Code, store: none" "$work/bodies/anth-50k.json" "$cc_headers" run --config "$work/store-none.yaml"
