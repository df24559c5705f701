#!/usr/bin/env bash
# What routing rules cost on the request path, in instructions per request (valgrind; see MEASURING.md), for a
# small JSON body and the real 50 KB Claude Code first turn:
#   off        no rules (the hot path as it was: the scanner compares keys with routing's own six names only)
#   model      one rule on the model name and a header (facts that need nothing from the body)
#   policy     the shipped policy's seven rules (conf/claude-code-team.yaml): every body fact it reads —
#              tools, thinking, images, estimated tokens, the conversation key — gathered on every request
#   base       (with BASE_BIN) the same "off" config on another build, e.g. main before rules existed
# Every rule's model resolves to the same pass-through target the request names, so the configs differ in the
# rules alone, not in where the request goes. Every config says `usage: { store: none }`: usage is still read,
# priced and counted (the record, its rule included, is built), but no SQLite writer thread adds its own
# variance to rows that differ by a few thousand instructions (loadtest/ledger-cost.sh measures the store).
#
# usage: loadtest/rules-instructions.sh [SWITCHYARD_BIN] [BASE_BIN]
#   env: N1, N2, CONC (as instructions-per-request.sh), PORT (default 18481; PORT+1 admin, PORT+2 mock)
# Needs valgrind and oha 1.16.0 (PATH, or $LOADTEST_TOOLS_DIR/bin, default target/loadtest-tools/bin).
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/loadtest/instr-configs.sh"
BIN=${1:-$ROOT/target/release/switchyard}
BASE_BIN=${2:-}
PORT=${PORT:-18481}
# The mock upstream on PORT+2 and $WORK (the ledger data dir too: nothing is stored, see above).
# shellcheck source=loadtest/mock-upstream.sh
source "$ROOT/loadtest/mock-upstream.sh"

printf '%s' '{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hello, how are you today? Tell me about it."}]}' >"$WORK/small.json"
claude_code_body "$WORK/50k.json"

common="listen: { proxy: \"127.0.0.1:$PORT\", admin: \"127.0.0.1:$((PORT + 1))\" }
server: { threads: 1 }
usage: { store: none }
providers:
  anthropic: { kind: anthropic, base_url: \"http://127.0.0.1:$((PORT + 2))\", keys: [sk-ant-x] }
teams:
  - { name: t, keys: [{ env: SWITCHYARD_TEAM_KEY }] }
models:
$(policy_models "anthropic/*")
  - { name: \"claude-*\", targets: [\"anthropic/*\"] }
"
printf '%s' "$common" >"$WORK/off.yaml"
printf '%s%s' "$common" "rules:
  - { name: hint, when: { headers: { x-switchyard-route-hint: cheap } }, model: glm }
  - { name: coding, when: { model: \"claude-*\" }, model: claude }
" >"$WORK/model.yaml"
# The shipped policy's rules, as they are in conf/claude-code-team.yaml.
{ printf '%s' "$common"; policy_rules "$ROOT"; } >"$WORK/policy.yaml"

measure() { # measure BIN CONFIG BODY
  HEADERS=$'x-api-key: k\nanthropic-version: 2023-06-01\nx-claude-code-session-id: 6297ca5a-3386-41f3-b96b-56ef6c5bc197' \
  SWITCHYARD_TEAM_KEY=k "$ROOT/loadtest/instructions-per-request.sh" "$PORT" /v1/messages "$3" -- "$1" run --config "$2" | awk '{print $1}'
}

echo "| config | small JSON ($(wc -c <"$WORK/small.json") B) | Claude Code first turn ($(wc -c <"$WORK/50k.json") B) |"
echo "|---|---:|---:|"
rows=(off model policy)
[[ -n $BASE_BIN ]] && rows=(base "${rows[@]}")
for row in "${rows[@]}"; do
  bin=$BIN config=$WORK/$row.yaml
  [[ $row == base ]] && bin=$BASE_BIN config=$WORK/off.yaml
  echo "| $row | $(measure "$bin" "$config" "$WORK/small.json") | $(measure "$bin" "$config" "$WORK/50k.json") |"
done
