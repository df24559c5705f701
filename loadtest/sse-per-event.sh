#!/usr/bin/env bash
# What one SSE event costs the gateway, in user-space instructions (valgrind; see MEASURING.md):
# (instructions per request of a 200-event stream − those of a 2-event stream) / 198, for
#   anthropic    Anthropic SSE pass-through   (POST /v1/messages, model claude-sonnet-4-5 → Anthropic provider)
#   openai       OpenAI SSE pass-through      (POST /v1/chat/completions, model gpt-4o → OpenAI provider)
#   translated   Anthropic → OpenAI           (POST /v1/messages, model glm → an OpenAI-format provider)
#   bare         (with BARE_BIN) bare Pingora passing the Anthropic stream, for the reference
# The upstream is `switchyard mock`, whose `x-mock-chunks: N` splits the reply's text into N deltas; the
# reply's text is the same in both runs (`x-mock-output-tokens`), so the two streams differ in the number of
# events, not in the text they carry (each extra event still brings its own framing: `event:`/`data:` lines,
# the delta's JSON envelope). Every config says `usage: { store: none }`: usage is still read from every
# stream and priced; only the SQLite writer (a per-request, not a per-event cost) is left out.
#
# usage: loadtest/sse-per-event.sh [SWITCHYARD_BIN]
#   env: N1 (default 200), N2 (default 1000), CONC, PORT (default 18491; PORT+1 admin, PORT+2 mock),
#        BARE_BIN (the loadtest/baseline binary; its row is skipped without it), EVENTS (default 200)
# Needs valgrind and oha 1.16.0 (PATH, or $LOADTEST_TOOLS_DIR/bin, default target/loadtest-tools/bin).
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/target/release/switchyard}
BARE_BIN=${BARE_BIN:-}
PORT=${PORT:-18491}
EVENTS=${EVENTS:-200}
export N1=${N1:-200} N2=${N2:-1000}
# shellcheck source=loadtest/mock-upstream.sh
source "$ROOT/loadtest/mock-upstream.sh"

printf '%s' '{"model":"claude-sonnet-4-5","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"hello, how are you today?"}]}' >"$WORK/anthropic.json"
printf '%s' '{"model":"gpt-4o","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"hello, how are you today?"}]}' >"$WORK/openai.json"
printf '%s' '{"model":"glm","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"hello, how are you today?"}]}' >"$WORK/translated.json"
cat >"$WORK/switchyard.yaml" <<EOF
listen: { proxy: "127.0.0.1:$PORT", admin: "127.0.0.1:$((PORT + 1))" }
server: { threads: 1 }
usage: { store: none }
providers:
  anth: { kind: anthropic, base_url: "http://$MOCK", keys: [sk-ant-x] }
  oai: { kind: openai, base_url: "http://$MOCK/v1", keys: [sk-oai-x] }
teams:
  - { name: t, keys: [{ env: SWITCHYARD_TEAM_KEY }] }
models:
  - { name: "claude-*", targets: ["anth/*"] }
  - { name: "gpt-*", targets: ["oai/*"] }
  - { name: glm, targets: ["oai/z-ai/glm-4.5-air"] }
EOF

# count SCENARIO EVENTS → instructions per request
count() {
  local scenario=$1 events=$2 path=/v1/messages auth=$'x-api-key: k\nanthropic-version: 2023-06-01'
  [[ $scenario == openai ]] && path=/v1/chat/completions auth='authorization: Bearer k'
  local body=$WORK/$scenario.json
  export HEADERS="$auth"$'\n'"x-mock-chunks: $events"$'\n'"x-mock-output-tokens: 600"
  if [[ $scenario == bare ]]; then
    body=$WORK/anthropic.json
    BASELINE_LISTEN=127.0.0.1:$PORT BASELINE_UPSTREAM=$MOCK \
      "$ROOT/loadtest/instructions-per-request.sh" "$PORT" "$path" "$body" -- "$BARE_BIN" | awk '{print $1}'
  else
    SWITCHYARD_TEAM_KEY=k "$ROOT/loadtest/instructions-per-request.sh" "$PORT" "$path" "$body" -- \
      "$BIN" run --config "$WORK/switchyard.yaml" | awk '{print $1}'
  fi
}

# The streams really have the events asked for (and the gateway passes them all on).
for scenario in anthropic openai; do
  path=/v1/messages; [[ $scenario == openai ]] && path=/v1/chat/completions
  got=$(curl -s -H "x-mock-chunks: $EVENTS" -H 'x-mock-output-tokens: 600' -H 'x-api-key: k' -H 'authorization: Bearer k' \
    -H 'content-type: application/json' -d @"$WORK/$scenario.json" "http://$MOCK$path" | grep -c '^data:')
  echo "mock, $scenario, x-mock-chunks: $EVENTS → $got data lines" >&2
done

scenarios=(anthropic openai translated)
[[ -n $BARE_BIN ]] && scenarios=(bare "${scenarios[@]}")
echo "| stream | 2-event deltas | $EVENTS-event deltas | per extra event |"
echo "|---|---:|---:|---:|"
for scenario in "${scenarios[@]}"; do
  few=$(count "$scenario" 2)
  many=$(count "$scenario" "$EVENTS")
  echo "| $scenario | $few | $many | $(( (many - few) / (EVENTS - 2) )) |"
done
