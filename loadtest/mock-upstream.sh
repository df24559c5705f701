# Sourced by the instruction-count scripts (body-instructions.sh, sse-per-event.sh, rules-instructions.sh): checks for oha and
# valgrind, makes a temp dir ($WORK, with the ledger's data dir in it) removed on exit, and starts
# `$BIN mock` on $MOCK (127.0.0.1:PORT+2), stopped on exit. Needs ROOT, BIN and PORT set.
export PATH="${LOADTEST_TOOLS_DIR:-$ROOT/target/loadtest-tools}/bin:$PATH"
command -v oha >/dev/null && command -v valgrind >/dev/null || { echo "needs oha and valgrind" >&2; exit 2; }
WORK=$(mktemp -d)
export SWITCHYARD_DATA_DIR="$WORK/data"
MOCK_PID=""
cleanup() {
  if [[ -n $MOCK_PID ]]; then kill "$MOCK_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
MOCK=127.0.0.1:$((PORT + 2))
"$BIN" mock --listen "$MOCK" >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://$MOCK/mock/stats" && break; sleep 0.1; done

# claude_code_body OUT: the real 50 KB Claude Code first-turn body (tests/fixtures), non-streaming, compact.
claude_code_body() {
  python3 - "$ROOT/tests/fixtures/claude-code/01-opus-stream-first-turn.json" "$1" <<'EOF'
import json, sys
body = json.load(open(sys.argv[1]))["body"]
body["stream"] = False
open(sys.argv[2], "w").write(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
EOF
}
