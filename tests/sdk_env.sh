#!/usr/bin/env bash
# Creates (once) the virtualenv with the pinned official SDKs the end-to-end tests drive.
# Idempotent; safe to run concurrently (flock).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/target/sdk-venv"
mkdir -p "$root/target"
exec 9>"$root/target/sdk-venv.lock"
flock 9
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import anthropic, openai, trustme' 2>/dev/null; then
  exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/sdk-requirements.txt"
