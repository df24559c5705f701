#!/usr/bin/env python3
"""Cost routing, measured: a Claude Code-shaped workload replayed through the real switchyard binary against the
mock provider, once with the shipped policy (conf/claude-code-team.yaml) and once with every request going to
the Claude model it names; priced by the gateway's own usage ledger, prompt-cache reads and writes included.

    python3 loadtest/cost_routing.py [--bin target/release/switchyard] [--sessions 40] [--seed 13]
                                     [--out FILE.md] [--workers 4] [--port-base N] [--fixtures DIR]
                                     [--also NAME=CONFIG ...]

--also adds policies to compare (each a switchyard config reading the same environment as the shipped one).

The script starts everything it needs and stops it by PID when it ends: for each policy a fresh
`switchyard mock` (whose prompt cache then starts empty, so no policy inherits another's cache) and a gateway on that policy, with
`ANTHROPIC_BASE_URL` / `OPENROUTER_BASE_URL` pointed at the mock and `SWITCHYARD_DATA_DIR` at a directory of
its own, so each policy's usage ledger (the default SQLite store) holds that policy's requests alone. Both
policies get the same requests in the same order (the workload is generated from --seed).

The workload, built on the real Claude Code first turn (tests/fixtures/claude-code/01-opus-stream-first-turn.json,
~50 KB of system prompt and 12 tool schemas):
  - sessions: each opens with that first turn (its own session id in `metadata.user_id` and
    `X-Claude-Code-Session-Id`, its own billing header line, its own task), then a tool loop — an assistant
    `tool_use` (Bash, Read, Edit, Grep) and the user's `tool_result` — turn after turn, the whole history resent
    each time with the prompt-cache breakpoint on the newest message, as Claude Code does;
  - background calls: Claude Code's small-model requests (claude-haiku-4-5, no tools, ~1 KB): a topic/title check
    at the start of a session and every few turns;
  - thinking turns: now and then a turn switches on a thinking budget (`thinking: enabled`, "think hard");
  - images: some sessions paste a screenshot (a ~100 KB image block) partway through; it stays in the history;
  - long-context sessions: some sessions read large files until the history passes ~150k estimated tokens.
  Output lengths are set per request with the mock's `x-mock-output-tokens` (tool turns 80-400 tokens, the last
  turn 600-1200, thinking turns 1500-4000 more, background calls 15-40).

Token counts are the mock's (input = body bytes / 4, cache reads and writes as its `cache.rs` simulates them), so the
dollars are those of this simulated workload; the ratio between the policies is the result.

Costs are the ledger's: after each policy's gateway has stopped (a graceful stop flushes the ledger), the script
reads `switchyard usage --config POLICY --by provider,model --format json` (and `--by rule`) from that policy's
store. The ledger prices each request by the upstream model that served it, from the shipped table
(conf/prices.yaml) and the config's `pricing:`, cache reads and writes at their own rates, in exact decimals;
the script keeps no price of its own. It checks that the ledger holds every request it sent, under the rule the
response's `x-switchyard-route` named, with the tokens the responses reported.
"""

import argparse
import base64
import copy
import decimal
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TEAM_KEY = "cost-routing-team-key"
LONG_CONTEXT_BYTES = 150_000 * 4  # where the shipped policy's long-context rule starts (its estimate: bytes / 4)

ALL_CLAUDE_CONFIG = """\
# Every request to the Claude model it names: the reference the shipped policy is compared with.
listen:
  proxy: "${SWITCHYARD_LISTEN}"
  admin: "${SWITCHYARD_METRICS_LISTEN}"
providers:
  anthropic:
    kind: anthropic
    base_url: "${ANTHROPIC_BASE_URL}"
    keys: ["${ANTHROPIC_API_KEY}"]
models:
  - { name: "claude-*", targets: ["anthropic/*"] }
teams:
  - name: claude-code
    keys: [{ env: SWITCHYARD_TEAM_KEY }]
"""


# ------------------------------------------------------------------ the workload

TASKS = [
    "The login form accepts an empty password. Find where it is validated and fix it, with a test.",
    "Add a --dry-run flag to the deploy command that prints what it would change.",
    "The nightly job leaks file handles; find the leak and fix it.",
    "Refactor the config loader so every error names the field it is about.",
    "Write integration tests for the billing export and make them pass.",
    "Upgrade the HTTP client to the new major version and fix what breaks.",
    "The search endpoint is slow on large accounts; profile it and make it faster.",
    "Port the retry logic from the old worker to the new queue consumer.",
]
TOOLS = ["Bash", "Read", "Edit", "Grep"]


def code_text(rng, size):
    """`size` bytes of file-listing-like text, different per call (and so per session)."""
    lines, n = [], 0
    while n < size:
        k, line = rng.randint(1, 60), rng.randint(1, 900)
        text = f"src/module_{k}/mod.rs:{line}:    let value_{line} = handler_{k}.process(&request, {rng.randint(0, 99)})?;\n"
        lines.append(text)
        n += len(text)
    return "".join(lines)[:size]


def without_cache_control(body):
    for msg in body["messages"]:
        if isinstance(msg["content"], list):
            for block in msg["content"]:
                if msg is not body["messages"][1]:  # Claude Code's environment message keeps its breakpoint
                    block.pop("cache_control", None)


def session_requests(first_turn, index, seed, long_context, with_image):
    """The requests of one Claude Code session, in order: (kind, body dict, output tokens)."""
    rng = random.Random(f"{seed}-{index}")
    session_id = "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(12), rng.getrandbits(48))
    task = rng.choice(TASKS)
    body = copy.deepcopy(first_turn)
    body["stream"] = False
    body["system"][0]["text"] = f"x-anthropic-billing-header: cc_version=2.1.328.{rng.randint(100, 999)}; cc_entrypoint=cli;"
    user_id = json.loads(body["metadata"]["user_id"])
    user_id["session_id"] = session_id
    body["metadata"]["user_id"] = json.dumps(user_id, separators=(",", ":"))
    body["messages"][0]["content"][-1]["text"] = task
    background = {
        "model": "claude-haiku-4-5",
        "max_tokens": 512,
        "system": [{"type": "text", "text": "Analyze if this message indicates a new conversation topic. If it does, extract a "
                                            "2-3 word title. Format your response as a JSON object with two fields: 'isNewTopic' "
                                            "(boolean) and 'title' (string, or null if isNewTopic is false)."}],
        "messages": [{"role": "user", "content": task}],
        "metadata": body["metadata"],
    }
    turns = rng.randint(16, 24) if long_context else rng.randint(6, 24)
    image_at = rng.randint(2, max(2, turns - 3)) if with_image else -1
    requests = [("background", background, rng.randint(15, 40))]
    for turn in range(turns):
        thinking = rng.random() < 0.08  # "think hard" — on the first turn too
        if thinking:
            sent = copy.deepcopy(body)
            sent["thinking"] = {"type": "enabled", "budget_tokens": 16000}
        else:
            sent = body
        last = turn == turns - 1
        output = rng.randint(600, 1200) if last else rng.randint(80, 400)
        if thinking:
            output += rng.randint(1500, 4000)
        kind = "thinking" if thinking else "main"
        requests.append((kind, json.dumps(sent, separators=(",", ":"), ensure_ascii=False), output))
        if turn > 0 and turn % rng.randint(5, 8) == 0:
            check = copy.deepcopy(background)
            check["messages"] = [{"role": "user", "content": f"Command: git status\nOutput: {code_text(rng, 300)}\nDoes this need attention?"}]
            requests.append(("background", check, rng.randint(15, 40)))
        if last:
            break
        # The model's tool call and its result: the conversation grows by one round.
        tool = rng.choice(TOOLS)
        call_id = f"toolu_{index:03d}_{turn:03d}"
        size = rng.randint(30_000, 70_000) if long_context else (rng.randint(8_000, 25_000) if rng.random() < 0.2 else rng.randint(300, 6_000))
        without_cache_control(body)
        body["messages"].append({"role": "assistant", "content": [
            {"type": "text", "text": f"I'll use {tool} for step {turn + 1}."},
            {"type": "tool_use", "id": call_id, "name": tool, "input": {"command": f"step {turn + 1}"} if tool == "Bash" else {"file_path": f"src/module_{turn}/mod.rs"}},
        ]})
        content = [{"type": "tool_result", "tool_use_id": call_id, "content": code_text(rng, size), "is_error": False}]
        if turn + 1 == image_at:
            png = base64.b64encode(rng.randbytes(75_000)).decode()
            content.append({"type": "text", "text": "Here is a screenshot of the failing page."})
            content.append({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}})
        content[-1]["cache_control"] = {"type": "ephemeral"}
        body["messages"].append({"role": "user", "content": content})
    return session_id, requests


def workload(fixtures, sessions, seed):
    with open(os.path.join(fixtures, "01-opus-stream-first-turn.json"), encoding="utf-8") as f:
        first_turn = json.load(f)["body"]
    rng = random.Random(seed)
    plan = []
    for i in range(sessions):
        long_context = rng.random() < 0.10
        with_image = not long_context and rng.random() < 0.12
        plan.append((i, long_context, with_image))
    return first_turn, plan


# ------------------------------------------------------------------ processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    """Processes this script started; each is stopped by its PID (and process group) at the end."""

    def __init__(self):
        self.procs = []

    def start(self, args, env=None, log=None):
        p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE if log is None else log, stderr=subprocess.STDOUT,
                             start_new_session=True, text=True)
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def stop_all(self):
        for p in self.procs:
            self.stop(p)


def start_mock(procs, binary):
    p = procs.start([binary, "mock", "--listen", "127.0.0.1:0"], env={**os.environ, "RUST_LOG": "warn"})
    deadline = time.time() + 20
    while time.time() < deadline:
        line = p.stdout.readline()
        if "http://" in line:
            threading.Thread(target=p.stdout.read, daemon=True).start()  # keep its pipe drained
            return p, "http://" + line.split("http://", 1)[1].strip()
    raise SystemExit("cost_routing.py: the mock did not start")


def gateway_env(config_dir, mock_url, proxy_port, admin_port):
    """The environment a policy's gateway runs in, and `switchyard usage` reads its config with."""
    return {
        "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "RUST_LOG": "warn",
        "SWITCHYARD_LISTEN": f"127.0.0.1:{proxy_port}", "SWITCHYARD_METRICS_LISTEN": f"127.0.0.1:{admin_port}",
        "ANTHROPIC_BASE_URL": mock_url, "ANTHROPIC_API_KEY": "sk-ant-cost-routing",
        "OPENROUTER_BASE_URL": mock_url + "/v1", "OPENROUTER_API_KEY": "sk-or-cost-routing",
        "SWITCHYARD_TEAM_KEY": TEAM_KEY,
        # The policy's own usage ledger: the default store, $SWITCHYARD_DATA_DIR/usage.db.
        "SWITCHYARD_DATA_DIR": config_dir,
    }


def start_gateway(procs, binary, config, env, admin_port, log_path):
    log = open(log_path, "w", encoding="utf-8")
    p = procs.start([binary, "run", "--config", config], env=env, log=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        if p.poll() is not None:
            raise SystemExit(f"cost_routing.py: the gateway exited ({config}); see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return p
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"cost_routing.py: the gateway did not become ready ({config})")


def ledger(binary, config, env, by):
    """`switchyard usage --by BY --format json` on the policy's store: a list of rows, costs as exact decimals."""
    out = subprocess.run([binary, "usage", "--config", config, "--by", by, "--format", "json"], env=env,
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"cost_routing.py: switchyard usage --by {by} failed: {out.stderr.strip()}")
    return json.loads(out.stdout, parse_float=decimal.Decimal)


# ------------------------------------------------------------------ replay

def send(port, body, session_id, output_tokens):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    data = data.encode() if isinstance(data, str) else data
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("POST", "/v1/messages?beta=true", body=data, headers={
            "content-type": "application/json", "x-api-key": TEAM_KEY, "anthropic-version": "2023-06-01",
            "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14", "x-app": "cli",
            "x-claude-code-session-id": session_id, "x-mock-output-tokens": str(output_tokens),
        })
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, resp.getheader("x-switchyard-target") or "", resp.getheader("x-switchyard-route") or "", payload, len(data)
    finally:
        conn.close()


def replay(port, first_turn, plan, seed, workers):
    """Each session's requests in order (a conversation is sequential); `workers` sessions at a time."""
    results, errors, lock = [], [], threading.Lock()
    queue = list(plan)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                index, long_context, with_image = queue.pop(0)
            session_id, requests = session_requests(first_turn, index, seed, long_context, with_image)
            kind_of_session = "long-context" if long_context else ("image" if with_image else "coding")
            for kind, body, output in requests:
                status, target, rule, payload, size = send(port, body, session_id, output)
                if status != 200:
                    with lock:
                        errors.append(f"session {index} {kind}: HTTP {status} {payload[:200]!r}")
                    continue
                usage = json.loads(payload).get("usage", {})
                with lock:
                    results.append({"session": index, "session_kind": kind_of_session, "kind": kind, "target": target,
                                    "rule": rule, "usage": usage, "bytes": size})

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors, time.time() - started


# ------------------------------------------------------------------ the ledger's account

TOKEN_FIELDS = {"input": "input_tokens", "cache_read": "cache_read_input_tokens",
                "cache_write": "cache_creation_input_tokens", "output": "output_tokens"}


def pct(part, whole):
    return 100.0 * float(part) / float(whole) if whole else 0.0


def summarize(name, results, sent, by_target_rows, by_rule_rows):
    """One policy's account, from its ledger; and where the ledger disagrees with what the client saw."""
    problems = []
    by_model, by_rule = {}, {}
    for row in by_target_rows:
        target = f"{row['provider']}/{row['model']}"
        if row["cost_usd"] is None or row["unpriced_requests"]:
            problems.append(f"{name}: the ledger has no price for `{target}` ({row['unpriced_requests']} requests)")
        m = {k: row[field] for k, field in TOKEN_FIELDS.items()}
        m.update(requests=row["requests"], cost=row["cost_usd"] or decimal.Decimal(0))
        by_model[target] = m
    for row in by_rule_rows:
        by_rule[row["rule"]] = [row["requests"], row["cost_usd"] or decimal.Decimal(0)]
    recorded = sum(m["requests"] for m in by_model.values())
    if recorded != sent:
        problems.append(f"{name}: the ledger holds {recorded} records, the script sent {sent} requests")
    # What the client was told, per target and per rule, against what the ledger recorded.
    seen_targets, seen_rules = {}, {}
    for r in results:
        t = seen_targets.setdefault(r["target"], {"requests": 0, **{k: 0 for k in TOKEN_FIELDS}})
        t["requests"] += 1
        for k, field in TOKEN_FIELDS.items():
            t[k] += r["usage"].get(field, 0)
        seen_rules[r["rule"]] = seen_rules.get(r["rule"], 0) + 1
    for target, seen in sorted(seen_targets.items()):
        got = by_model.get(target, {})
        diff = [f"{k} {seen[k]:,} in responses, {got.get(k, 0):,} in the ledger" for k in seen if seen[k] != got.get(k, 0)]
        if diff:
            problems.append(f"{name}: `{target}`: " + "; ".join(diff))
    for rule, n in sorted(seen_rules.items()):
        if by_rule.get(rule, [0])[0] != n:
            problems.append(f"{name}: rule `{rule}`: {n} responses said so, the ledger has {by_rule.get(rule, [0])[0]}")
    n = recorded
    total = sum((m["cost"] for m in by_model.values()), decimal.Decimal(0))
    all_input = sum(m["input"] + m["cache_read"] + m["cache_write"] for m in by_model.values())
    cached = sum(m["cache_read"] for m in by_model.values())
    return {"name": name, "n": n, "total": total, "per_1000": total / n * 1000 if n else decimal.Decimal(0),
            "by_model": by_model, "by_rule": by_rule, "cache_share": pct(cached, all_input),
            "input_tokens": all_input}, problems


def report(summaries, plan, results, args, elapsed, agreed):
    base, routed = summaries[0], summaries[1]
    lines = []
    w = lines.append
    sizes = sorted(r["bytes"] for r in results)
    kinds = {}
    for r in results:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    n_sessions = len(plan)
    n_long = sum(1 for _, lc, _ in plan if lc)
    n_image = sum(1 for _, _, im in plan if im)
    saving = 1 - routed["per_1000"] / base["per_1000"] if base["per_1000"] else 0.0
    w("## Cost routing: the shipped policy against all-Claude, on a Claude Code-shaped workload\n")
    also = "".join(f" --also {a}" for a in args.also)
    w(f"`python3 loadtest/cost_routing.py --sessions {args.sessions} --seed {args.seed}{also}` (switchyard `{os.path.relpath(args.bin)}`, "
      f"{args.workers} sessions at a time, loopback, `switchyard mock` (prompt cache per model) as every provider; "
      f"{', '.join(f'{t:.0f} s' for t in elapsed)} per policy).\n")
    w(f"Workload: {n_sessions} Claude Code sessions ({n_sessions - n_long - n_image} coding, {n_image} with a pasted screenshot, "
      f"{n_long} long-context), {base['n']} requests per policy: " +
      ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) +
      f". Request bodies: median {statistics.median(sizes) / 1024:.0f} KB, 90th percentile "
      f"{sizes[int(len(sizes) * 0.9)] / 1024:.0f} KB, largest {sizes[-1] / 1024:.0f} KB. "
      "Costs: each policy's usage ledger (`switchyard usage --by provider,model` and `--by rule --format json` on its "
      "store), priced by the shipped table `conf/prices.yaml`, cache reads and writes included. "
      + ("The ledger held every request, under the rule its response named, with the tokens the responses reported.\n"
         if agreed else "The ledger and the responses disagree: see the end of this report.\n"))
    w("| policy | requests | USD per 1,000 requests | USD total | input tokens read from cache | vs all-Claude |")
    w("|---|---:|---:|---:|---:|---:|")
    for s in summaries:
        w(f"| {s['name']} | {s['n']} | {s['per_1000']:,.2f} | {s['total']:,.2f} | {s['cache_share']:.0f} % | "
          f"{s['per_1000'] / base['per_1000'] if base['per_1000'] else 0:.2f}× |")
    w("")
    w(f"**Saving of the shipped policy: {saving * 100:.0f} %** of the all-Claude bill for the same requests.\n")
    for s in summaries:
        w(f"Where the requests and the dollars went — **{s['name']}**:\n")
        w("| served by | requests | share of requests | USD | share of USD | uncached in | cache read | cache write | out |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for target, m in sorted(s["by_model"].items(), key=lambda kv: -kv[1]["cost"]):
            w(f"| `{target}` | {m['requests']} | {pct(m['requests'], s['n']):.1f} % | {m['cost']:,.2f} | {pct(m['cost'], s['total']):.1f} % | "
              f"{m['input']:,} | {m['cache_read']:,} | {m['cache_write']:,} | {m['output']:,} |")
        w("")
    for s in summaries[1:]:
        w(f"By rule (the ledger's `rule`, as `x-switchyard-route` names it) — **{s['name']}**:\n")
        w("| rule | requests | share of requests | USD | share of USD |")
        w("|---|---:|---:|---:|---:|")
        for rule, (n, c) in sorted(s["by_rule"].items(), key=lambda kv: -kv[1][1]):
            w(f"| `{rule}` | {n} | {pct(n, s['n']):.1f} % | {c:,.2f} | {pct(c, s['total']):.1f} % |")
        w("")
    w(depends_on(base, routed, summaries[2:]))
    return "\n".join(lines) + "\n", saving


def depends_on(base, routed, others):
    """What the saving depends on, with this run's numbers."""
    claude = {k: v for k, v in routed["by_model"].items() if k.startswith("anthropic/")}
    claude_n = sum(v["requests"] for v in claude.values())
    claude_usd = sum(v["cost"] for v in claude.values())
    thinking_n, thinking_usd = routed["by_rule"].get("thinking", [0, 0])
    images_n, images_usd = routed["by_rule"].get("images", [0, 0])
    bg_n, _ = routed["by_rule"].get("background", [0, 0])
    base_bg = sum(v["cost"] for k, v in base["by_model"].items() if "haiku" in k)
    lines = ["What the saving depends on, in this run:\n",
             f"- **How much still goes to Claude.** Claude serves {pct(claude_n, routed['n']):.0f} % of the shipped policy's requests and "
             f"{pct(claude_usd, routed['total']):.0f} % of its dollars: the split's 20 % share, thinking turns and conversations with an image.",
             f"- **Moves mid-conversation.** A thinking turn goes to Claude, which has none of that conversation's history in its "
             f"prompt cache and writes it all (1.25× the input price) before it reads anything: thinking turns are "
             f"{pct(thinking_n, routed['n']):.1f} % of the requests and {pct(thinking_usd, routed['total']):.0f} % of the dollars. "
             f"An image moves its conversation to Claude for good ({pct(images_n, routed['n']):.1f} % of requests, "
             f"{pct(images_usd, routed['total']):.0f} % of dollars)."]
    for other in others:
        lines.append(f"  The policy `{other['name']}` costs {other['per_1000']:,.2f} USD per 1,000 requests "
                     f"({(1 - other['per_1000'] / base['per_1000']) * 100:.0f} % below all-Claude).")
    lines += [
        f"- **Prompt caching.** {base['cache_share']:.0f} % (all-Claude) and {routed['cache_share']:.0f} % (shipped) of input tokens are "
        "cache reads, so the price that matters most is the cache-read price (conf/prices.yaml: Opus $0.50, GLM-4.6 $0.11 per "
        "million, 4.5×, not the 8× of the input prices); a policy that makes conversations hop loses it.",
        f"- **Background calls do not matter.** {pct(bg_n, routed['n']):.0f} % of the requests, {pct(base_bg, base['total']):.1f} % of the "
        "all-Claude bill: small, uncached, cheap on Haiku already.",
        "- **What this cannot measure.** Every policy replays the same conversations: a cheaper model that needs more turns, "
        "or fails and falls back to Claude, for the same task costs more than this shows. Token counts are the mock's "
        "(bytes / 4), prices the ledger's table, the mix (thinking on 8 % of turns, a screenshot in 12 % of sessions, 10 % "
        "long-context sessions, 6–24 turns) this script's.",
        ""]
    return "\n".join(lines)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_bin = os.path.join(root, "target", "release", "switchyard")
    if not os.path.exists(default_bin):
        default_bin = os.path.join(root, "target", "debug", "switchyard")
    ap.add_argument("--bin", default=default_bin)
    ap.add_argument("--fixtures", default=os.path.join(root, "tests", "fixtures", "claude-code"))
    ap.add_argument("--policy", default=os.path.join(root, "conf", "claude-code-team.yaml"))
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--port-base", type=int, default=0, help="use PORT..PORT+3 for the two gateways (default: free ports)")
    ap.add_argument("--out", help="also write the Markdown report here")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=CONFIG", help="another policy to compare")
    args = ap.parse_args()
    first_turn, plan = workload(args.fixtures, args.sessions, args.seed)
    procs = Procs()
    tmp = tempfile.mkdtemp(prefix="cost-routing-")
    all_claude = os.path.join(tmp, "all-claude.yaml")
    with open(all_claude, "w", encoding="utf-8") as f:
        f.write(ALL_CLAUDE_CONFIG)
    summaries, elapsed, all_errors, problems, routed_results = [], [], [], [], []
    try:
        extra = [tuple(a.split("=", 1)) for a in args.also]
        if args.port_base and extra:
            raise SystemExit("cost_routing.py: --also uses free ports; leave out --port-base")
        for i, (name, config) in enumerate([("all-Claude", all_claude), ("shipped policy", args.policy)] + extra):
            ports = (args.port_base + 2 * i, args.port_base + 2 * i + 1) if args.port_base else (free_port(), free_port())
            mock, mock_url = start_mock(procs, args.bin)
            data_dir = os.path.join(tmp, f"data-{i}")
            env = gateway_env(data_dir, mock_url, *ports)
            gw = start_gateway(procs, args.bin, config, env, ports[1], os.path.join(tmp, f"gateway-{i}.log"))
            results, errors, took = replay(ports[0], first_turn, plan, args.seed, args.workers)
            procs.stop(gw)  # a graceful stop: the ledger writes what it still holds
            procs.stop(mock)
            summary, found = summarize(name, results, len(results) + len(errors),
                                       ledger(args.bin, config, env, "provider,model"), ledger(args.bin, config, env, "rule"))
            all_errors += [f"{name}: {e}" for e in errors]
            problems += found
            summaries.append(summary)
            elapsed.append(took)
            if i == 1:
                routed_results = results
    finally:
        procs.stop_all()
    text, saving = report(summaries, plan, routed_results, args, elapsed, not problems)
    if problems:
        text += "The ledger against the responses:\n\n" + "\n".join(f"- {p}" for p in problems) + "\n"
    if all_errors:
        text += "Errors:\n\n" + "\n".join(f"- {e}" for e in all_errors[:20]) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 1 if all_errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())
