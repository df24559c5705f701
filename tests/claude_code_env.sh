#!/usr/bin/env bash
# Installs (once) the pinned Claude Code CLI the end-to-end test drives, into target/claude-code.
# Idempotent; safe to run concurrently (flock).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="2.1.328"
dir="$root/target/claude-code"
mkdir -p "$dir"
exec 9>"$root/target/claude-code.lock"
flock 9
if [ -x "$dir/node_modules/.bin/claude" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/@anthropic-ai/claude-code/package.json" 2>/dev/null; then
  exit 0
fi
cd "$dir"
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$version"
