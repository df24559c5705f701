#!/usr/bin/env bash
# What the real 50 KB Claude Code first turn (tests/fixtures/claude-code/01, `stream` off so the count is the
# body path, not the reply) costs per request, in user-space instructions (valgrind; see MEASURING.md):
#   bare       (with BARE_BIN) bare Pingora (loadtest/baseline) in front of the same mock: the reference
#   plain      switchyard, `usage: { store: none }`, no rules, no limits: the body path alone
#   features   switchyard with the usage ledger writing to SQLite, the shipped Claude Code policy's rules
#              (conf/claude-code-team.yaml) and in-process limits on the team — issue 18's "features on"
# Every rule's model resolves to the pass-through target the request names.
#
# usage: loadtest/body-instructions.sh [SWITCHYARD_BIN]
#   env: N1, N2, CONC (as instructions-per-request.sh), PORT (default 18501; PORT+1 admin, PORT+2 mock),
#        BARE_BIN (its row is skipped without it)
# Needs valgrind and oha 1.16.0 (PATH, or $LOADTEST_TOOLS_DIR/bin, default target/loadtest-tools/bin).
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/target/release/switchyard}
BARE_BIN=${BARE_BIN:-}
PORT=${PORT:-18501}
# shellcheck source=loadtest/mock-upstream.sh
source "$ROOT/loadtest/mock-upstream.sh"

claude_code_body "$WORK/50k.json"

common="listen: { proxy: \"127.0.0.1:$PORT\", admin: \"127.0.0.1:$((PORT + 1))\" }
server: { threads: 1 }
providers:
  anthropic: { kind: anthropic, base_url: \"http://$MOCK\", keys: [sk-ant-x] }
models:
  - { name: claude, targets: [\"anthropic/*\"] }
  - { name: fast, targets: [\"anthropic/*\"] }
  - { name: long, targets: [\"anthropic/*\"] }
  - { name: glm, targets: [\"anthropic/*\"] }
  - { name: qwen, targets: [\"anthropic/*\"] }
  - { name: \"claude-*\", targets: [\"anthropic/*\"] }
"
printf '%susage: { store: none }\nteams:\n  - { name: t, keys: [{ env: SWITCHYARD_TEAM_KEY }] }\n' "$common" >"$WORK/plain.yaml"
{
  printf '%s' "$common"
  sed -n '/^rules:/,/^teams:/p' "$ROOT/conf/claude-code-team.yaml" | sed '$d'
  printf 'teams:\n  - { name: t, keys: [{ env: SWITCHYARD_TEAM_KEY }], limits: { requests_per_minute: 1000000000, tokens_per_minute: 1000000000000, max_concurrent: 10000 } }\n'
} >"$WORK/features.yaml"

HEADERS=$'x-api-key: k\nanthropic-version: 2023-06-01\nx-claude-code-session-id: 6297ca5a-3386-41f3-b96b-56ef6c5bc197'
export HEADERS
measure() { # measure ROW
  rm -rf "$SWITCHYARD_DATA_DIR"
  if [[ $1 == bare ]]; then
    BASELINE_LISTEN=127.0.0.1:$PORT BASELINE_UPSTREAM=$MOCK \
      "$ROOT/loadtest/instructions-per-request.sh" "$PORT" /v1/messages "$WORK/50k.json" -- "$BARE_BIN" | awk '{print $1}'
  else
    SWITCHYARD_TEAM_KEY=k "$ROOT/loadtest/instructions-per-request.sh" "$PORT" /v1/messages "$WORK/50k.json" -- \
      "$BIN" run --config "$WORK/$1.yaml" | awk '{print $1}'
  fi
}

rows=(plain features)
[[ -n $BARE_BIN ]] && rows=(bare "${rows[@]}")
echo "| config | Claude Code first turn ($(wc -c <"$WORK/50k.json") B) |"
echo "|---|---:|"
for row in "${rows[@]}"; do
  echo "| $row | $(measure "$row") |"
done
