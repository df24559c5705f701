#!/usr/bin/env bash
# Installs (once) the pinned Codex CLI the end-to-end test drives, into target/codex. The npm package
# carries its native binary as an optional dependency, so the registry is all it needs.
# Idempotent; safe to run concurrently (flock).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="0.169.0"
dir="$root/target/codex"
mkdir -p "$dir"
exec 9>"$root/target/codex.lock"
flock 9
if [ -x "$dir/node_modules/.bin/codex" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/@openai/codex/package.json" 2>/dev/null; then
  exit 0
fi
cd "$dir"
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --no-audit --no-fund --loglevel=error "@openai/codex@$version"
