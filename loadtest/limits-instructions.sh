#!/usr/bin/env bash
# What limits cost on the hot path, in user-space instructions per request (valgrind; see MEASURING.md):
# the same small Anthropic JSON request (156 B) through a release switchyard with limits off, with one team
# held to requests_per_minute + tokens_per_minute + max_concurrent counted in-process, the same limits
# counted in Redis (`shared_state`; a redis-server of its own on a loopback port), and in Redis without
# max_concurrent (rates only: one round trip per request instead of two), and both stores again with spend
# budgets per day and per month added to the three limits (values far above the load: nothing is refused;
# every request's cost is charged at its end). Upstream: `switchyard mock`.
# The usage ledger is on in every mode, as shipped (SQLite in a fresh data directory under the run's temp
# dir, never in the work tree): the rows differ by limits alone.
#
# usage: bash loadtest/limits-instructions.sh   (after `cargo build --release --locked`)
#   env: N1, N2, CONC as for instructions-per-request.sh; PORT_BASE (default 18600); OHA_DIR (a dir holding oha);
#        MODES (default: off local local-budgets redis redis-budgets redis-rates)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/loadtest/instr-configs.sh"
bin="$root/target/release/switchyard"
[ -x "$bin" ] || { echo "build first: cargo build --release --locked" >&2; exit 2; }
export PATH="${OHA_DIR:-$root/target/loadtest-tools/bin}:$PATH"
command -v oha >/dev/null && command -v valgrind >/dev/null && command -v redis-server >/dev/null \
  || { echo "needs oha (cargo install oha --locked --version 1.16.0), valgrind and redis-server" >&2; exit 2; }
base="${PORT_BASE:-18600}"
mock_port=$base; proxy=$((base + 1)); admin=$((base + 2)); redis_port=$((base + 3))
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$bin" mock --listen "127.0.0.1:$mock_port" >/dev/null 2>&1 & pids+=($!)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG \
  || { echo "redis-server did not start on port $redis_port (in use? set PORT_BASE)" >&2; exit 1; }
printf '%s' '{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Say hello in one short sentence, please."}]}' >"$work/body.json"

common="listen: { proxy: 127.0.0.1:$proxy, admin: 127.0.0.1:$admin }
server: { threads: 1, grace_period_seconds: 1 }
providers:
  anth: { kind: anthropic, base_url: 'http://127.0.0.1:$mock_port', keys: [sk-ant-api03-measure] }
models: [{ name: 'claude-*', targets: ['anth/*'] }]"
team_off="teams: [{ name: measured, keys: [{ env: MEASURE_KEY }] }]"
team_on="teams: [{ name: measured, keys: [{ env: MEASURE_KEY }], $TEAM_LIMITS }]"
printf '%s\n%s\n' "$common" "$team_off" >"$work/off.yaml"
printf '%s\n%s\n' "$common" "$team_on" >"$work/local.yaml"
printf '%s\n%s\nshared_state: { redis_url: "redis://127.0.0.1:%s/0", timeout_ms: 5000 }\n' "$common" "$team_on" "$redis_port" >"$work/redis.yaml"
printf '%s\n%s\nshared_state: { redis_url: "redis://127.0.0.1:%s/0", timeout_ms: 5000 }\n' "$common" "${team_on/, max_concurrent: 10000/}" "$redis_port" >"$work/redis-rates.yaml"
team_budgets="${team_on/max_concurrent: 10000/max_concurrent: 10000, budget_usd_per_day: 1000000, budget_usd_per_month: 1000000}"
printf '%s\n%s\n' "$common" "$team_budgets" >"$work/local-budgets.yaml"
printf '%s\n%s\nshared_state: { redis_url: "redis://127.0.0.1:%s/0", timeout_ms: 5000 }\n' "$common" "$team_budgets" "$redis_port" >"$work/redis-budgets.yaml"

export MEASURE_KEY=measure-key HEADERS=$'x-api-key: measure-key\nanthropic-version: 2023-06-01'
for mode in ${MODES:-off local local-budgets redis redis-budgets redis-rates}; do
  printf '%-12s ' "$mode"
  rm -rf "$work/data"; mkdir -p "$work/data"
  SWITCHYARD_DATA_DIR="$work/data" bash "$root/loadtest/instructions-per-request.sh" "$proxy" /v1/messages "$work/body.json" -- "$bin" run --config "$work/$mode.yaml"
done
echo "keys the redis runs left in Redis (0 would mean they never reached it): $(redis-cli -p "$redis_port" --scan --pattern 'switchyard:*' | wc -l)"
