#!/usr/bin/env bash
# The hot-path overhead table (issue 18): user-space instructions per request (valgrind, see MEASURING.md) of
# bare Pingora and of switchyard with its features off and on, for each load-test scenario, as a markdown
# table with the overhead over bare Pingora. Columns:
#   bare     loadtest/baseline (bare Pingora 0.9, the same mock upstream); for the translated stream, bare
#            Pingora passing the same request's native Anthropic stream (there is no bare translation)
#   off      usage store none, no rules, no limits (usage is still read, priced and counted in the metrics)
#   ledger   + the usage ledger writing to SQLite (the default store, in a temp data directory)
#   rules    + the shipped Claude Code policy's rules (conf/claude-code-team.yaml), every rule's model
#            forwarding where the request was going anyway, so the rules add their work, not a detour
#   limits   + in-process requests_per_minute, tokens_per_minute and max_concurrent for the team
#   all      ledger + rules + limits
# Config pieces come from instr-configs.sh (shared with rules-instructions.sh and limits-instructions.sh),
# bodies from lt.py (shared with run.sh), counting from instructions-per-request.sh.
#
# usage: bash loadtest/overhead-table.sh [SWITCHYARD_BIN]   (after `cargo build --release --locked`; the bare
#        column needs target/loadtest-baseline/release/bare-pingora, which `loadtest/run.sh` builds)
#   env: N1 (default 200), N2 (default 1000), CONC (default 4): requests per count, as instructions-per-request.sh;
#        SCENARIOS (default: all five), COLUMNS (default: bare off ledger rules limits all);
#        PORT_BASE (default 18700: mock, proxy, admin); OHA_DIR (a dir holding oha 1.16.0)
# With the defaults it takes ≈ 15 min on a 2-core machine (60 valgrind runs); each count is cut off after
# 5 min, so it always ends.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/loadtest/instr-configs.sh"
bin="${1:-$root/target/release/switchyard}"
bare_bin="$root/target/loadtest-baseline/release/bare-pingora"
[ -x "$bin" ] || { echo "build first: cargo build --release --locked" >&2; exit 2; }
export PATH="${OHA_DIR:-$root/target/loadtest-tools/bin}:$PATH"
command -v oha >/dev/null && command -v valgrind >/dev/null || { echo "needs oha 1.16.0 and valgrind" >&2; exit 2; }
export N1="${N1:-200}" N2="${N2:-1000}"
scenarios=(${SCENARIOS:-anth-json-small anth-json-50k anth-sse oai-json-small translated-sse})
columns=(${COLUMNS:-bare off ledger rules limits all})
base="${PORT_BASE:-18700}"
mock_port=$base proxy=$((base + 1)) admin=$((base + 2))
work="$(mktemp -d)"
mock_pid=""
cleanup() { [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

python3 "$root/loadtest/lt.py" bodies "$root/tests/fixtures/claude-code" "$work/bodies" >/dev/null
# The translated stream asks for an OpenAI model through the Anthropic API (lt.py's body names `glm`,
# which the policy's rules use as a rule target here).
sed 's/"model":"glm"/"model":"gpt-4o-mini"/' "$work/bodies/translated-stream.json" >"$work/bodies/translated.json"

"$bin" mock --listen "127.0.0.1:$mock_port" >"$work/mock.log" 2>&1 &
mock_pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$mock_port/mock/stats" && break; sleep 0.1; done

config() { # config WITH_LEDGER WITH_RULES WITH_LIMITS
  echo "listen: { proxy: \"127.0.0.1:$proxy\", admin: \"127.0.0.1:$admin\" }"
  echo "server: { threads: 1, grace_period_seconds: 1 }"
  [ "$1" = 1 ] || echo "usage: { store: none }"
  echo "providers:"
  echo "  anthropic: { kind: anthropic, base_url: \"http://127.0.0.1:$mock_port\", keys: [sk-ant-measure] }"
  echo "  oai: { kind: openai, base_url: \"http://127.0.0.1:$mock_port/v1\", keys: [sk-oai-measure] }"
  echo "models:"
  echo "  - { name: \"claude-*\", targets: [\"anthropic/*\"] }"
  echo "  - { name: \"gpt-*\", targets: [\"oai/*\"] }"
  [ "$2" = 1 ] && policy_models "anthropic/*"
  if [ "$3" = 1 ]; then
    echo "teams: [{ name: t, keys: [{ env: MEASURE_KEY }], $TEAM_LIMITS }]"
  else
    echo "teams: [{ name: t, keys: [{ env: MEASURE_KEY }] }]"
  fi
  [ "$2" = 1 ] && policy_rules "$root"
  return 0
}
config 0 0 0 >"$work/off.yaml"
config 1 0 0 >"$work/ledger.yaml"
config 0 1 0 >"$work/rules.yaml"
config 0 0 1 >"$work/limits.yaml"
config 1 1 1 >"$work/all.yaml"

export MEASURE_KEY=measure-key
anth=$'x-api-key: measure-key\nanthropic-version: 2023-06-01\nx-claude-code-session-id: 6297ca5a-3386-41f3-b96b-56ef6c5bc197'
scenario() { # sets path body headers label for $1
  case $1 in
    anth-json-small) label="Anthropic JSON, small ($(wc -c <"$work/bodies/anth-small.json") B)"
      path=/v1/messages body=$work/bodies/anth-small.json headers=$anth ;;
    anth-json-50k) label="Claude Code first turn, JSON ($(wc -c <"$work/bodies/anth-50k.json") B)"
      path='/v1/messages?beta=true' body=$work/bodies/anth-50k.json
      headers="x-api-key: measure-key"$'\n'"$(cat "$work/bodies/anth-50k.headers")" ;;
    anth-sse) label="Anthropic SSE, 20 events"
      path=/v1/messages body=$work/bodies/anth-stream.json headers="$anth"$'\nx-mock-chunks: 14' ;;
    oai-json-small) label="OpenAI chat JSON, small ($(wc -c <"$work/bodies/oai-small.json") B)"
      path=/v1/chat/completions body=$work/bodies/oai-small.json headers='authorization: Bearer measure-key' ;;
    translated-sse) label="Anthropic → OpenAI translated SSE (14 chunks)"
      path=/v1/messages body=$work/bodies/translated.json headers="$anth"$'\nx-mock-chunks: 14' ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
  esac
}

count() { # count COLUMN → instructions per request (empty when not measured)
  local n
  rm -rf "$work/data"; mkdir -p "$work/data"
  if [ "$1" = bare ]; then
    [ -x "$bare_bin" ] || return 0
    # Exported, not through `env`: valgrind must run the proxy itself.
    n=$(BASELINE_LISTEN="127.0.0.1:$proxy" BASELINE_UPSTREAM="127.0.0.1:$mock_port" HEADERS="$headers" \
      timeout 300 bash "$root/loadtest/instructions-per-request.sh" "$proxy" "$path" "$body" -- "$bare_bin") || return 0
  else
    n=$(HEADERS="$headers" SWITCHYARD_DATA_DIR="$work/data" RUST_LOG=error \
      timeout 300 bash "$root/loadtest/instructions-per-request.sh" "$proxy" "$path" "$body" -- "$bin" run --config "$work/$1.yaml") || return 0
  fi
  echo "${n%% *}"
}

started=$(date +%s)
printf '| request |'; for c in "${columns[@]}"; do printf ' %s |' "$c"; done; echo
printf '|---|'; for _ in "${columns[@]}"; do printf -- '---:|'; done; echo
for s in "${scenarios[@]}"; do
  scenario "$s"
  bare=""
  row="| $label |"
  for c in "${columns[@]}"; do
    n=$(count "$c")
    if [ -z "$n" ]; then row+=" — |"; continue; fi
    [ "$c" = bare ] && bare=$n
    if [ -n "$bare" ] && [ "$c" != bare ]; then
      row+=" $(awk -v n="$n" -v b="$bare" 'BEGIN { printf "%.1fk (%+.0f %%)", n / 1000, (n - b) * 100 / b }') |"
    else
      row+=" $(awk -v n="$n" 'BEGIN { printf "%.1fk", n / 1000 }') |"
    fi
  done
  echo "$row"
done
echo
echo "instructions per request, user space, N1=$N1 N2=$N2 -c ${CONC:-4}; $(( $(date +%s) - started )) s; $("$bin" --version 2>/dev/null || echo switchyard)"
