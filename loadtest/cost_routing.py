#!/usr/bin/env python3
"""Cost-routing scenario: replay a Claude Code-shaped request mix through switchyard and price it.

    cost_routing.py FIXTURE_DIR OUT_MD --policy NAME=URL [--policy NAME=URL ...] [--requests N] [--workers N]

Each --policy is a running switchyard (URL of its proxy listener) whose config expresses one routing
policy; the team key is read from $BENCH_TEAM_KEY. The same N requests (default 1000, in a fixed
shuffled order) go through every policy. For each response the script reads the `x-switchyard-target`
header (which provider/model served it) and the usage the reply reports, prices it with the list prices
below, and writes a Markdown section with the cost per 1,000 requests per policy.

The mix, built from the real Claude Code requests in FIXTURE_DIR (per 1,000 requests):
  background    250  Claude Code's small-model calls (title/topic): haiku, ~1 KB, no tools
  normal        600  fixtures 01/02: the main model's tool loop (~50 KB with the 12 tool schemas)
  long-context  100  fixture 02 with a tool result grown to ~560 KB (~140k input tokens)
  thinking       50  fixture 01 with extended thinking enabled (budget 16k)
Token counts are the mock provider's (input = body bytes / 4, output = words generated), so the
absolute dollars are illustrative; the ratio between policies is the result.
"""

import argparse
import concurrent.futures
import copy
import http.client
import json
import os
import random
import sys
import time
import urllib.parse

# USD per million tokens (input, output): public list prices. claude-opus-5-5 (the fixtures' model) is
# priced like Claude Opus 4.5; GLM-4.5-Air at its OpenRouter list price.
PRICES = {
    "claude-opus": (5.00, 25.00),
    "claude-sonnet": (3.00, 15.00),
    "claude-haiku": (1.00, 5.00),
    "glm-4.5-air": (0.20, 1.10),
}

MIX = [("background", 250), ("normal", 600), ("long-context", 100), ("thinking", 50)]


def price_key(model):
    m = model.lower()
    for key in PRICES:
        if key in m:
            return key
    raise SystemExit(f"cost_routing.py: no price for model {model!r}")


def load(fixture_dir, name):
    with open(os.path.join(fixture_dir, name), encoding="utf-8") as f:
        return json.load(f)


def build_requests(fixture_dir):
    f1 = load(fixture_dir, "01-opus-stream-first-turn.json")
    f2 = load(fixture_dir, "02-opus-stream-tool-result-turn.json")
    f4 = load(fixture_dir, "04-haiku-thinking-enabled.json")

    def plain(fx):
        body = copy.deepcopy(fx["body"])
        body["stream"] = False
        return body

    def first_user_text(body):
        for msg in body["messages"]:
            if msg["role"] == "user":
                content = msg["content"]
                if isinstance(content, str):
                    return content
                texts = [b.get("text", "") for b in content if b.get("type") == "text"]
                if texts:
                    return texts[-1]
        return "hello"

    background = {
        "model": f4["body"]["model"],
        "max_tokens": 512,
        "system": [{"type": "text", "text": "Analyze if this message indicates a new conversation topic. "
                    "Format your response as a JSON object with two fields: 'isNewTopic' and 'title'."}],
        "messages": [{"role": "user", "content": first_user_text(f1["body"])[:800]}],
    }
    normal = [plain(f1), plain(f2)]
    long_ctx = plain(f2)
    # grow the last tool_result to ~560 KB of text
    for msg in reversed(long_ctx["messages"]):
        if msg["role"] == "user" and isinstance(msg["content"], list):
            for block in msg["content"]:
                if block.get("type") == "tool_result":
                    line = "src/proxy/mod.rs:42: let upstream = state.upstreams.get(target.provider); // context line\n"
                    block["content"] = line * (560_000 // len(line))
                    break
            break
    thinking = plain(f1)
    thinking["thinking"] = {"type": "enabled", "budget_tokens": 16000}
    kinds = {"background": [background], "normal": normal, "long-context": [long_ctx], "thinking": [thinking]}
    encoded = {k: [json.dumps(b, separators=(",", ":"), ensure_ascii=False).encode() for b in v] for k, v in kinds.items()}
    return encoded


def plan(n):
    seq = []
    for kind, per_thousand in MIX:
        seq += [kind] * round(n * per_thousand / 1000)
    random.Random(7).shuffle(seq)
    return seq


def send(url, key, body):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    try:
        conn.request("POST", "/v1/messages?beta=true", body=body, headers={
            "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01",
            "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
        })
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.getheader("x-switchyard-target") or "", data
    finally:
        conn.close()


def run_policy(url, key, reqs, seq, workers):
    counters = {}
    rr = {k: 0 for k in reqs}
    jobs = []
    for kind in seq:
        bodies = reqs[kind]
        jobs.append((kind, bodies[rr[kind] % len(bodies)]))
        rr[kind] += 1
    errors = []
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [(kind, pool.submit(send, url, key, body)) for kind, body in jobs]
        results = []
        for kind, fut in futures:
            status, target, data = fut.result()
            if status != 200:
                errors.append(f"{kind}: HTTP {status} {data[:200]!r}")
                continue
            reply = json.loads(data)
            usage = reply.get("usage", {})
            results.append((kind, target, usage.get("input_tokens", 0), usage.get("output_tokens", 0), reply.get("model", "")))
    elapsed = time.time() - t0
    for kind, target, tin, tout, _ in results:
        c = counters.setdefault((kind, target), [0, 0, 0])
        c[0] += 1
        c[1] += tin
        c[2] += tout
    return counters, errors, elapsed


def cost_of(counters, price_by):
    total = 0.0
    for (kind, target), (n, tin, tout) in counters.items():
        pin, pout = PRICES[price_by(kind, target)]
        total += tin / 1e6 * pin + tout / 1e6 * pout
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixtures")
    ap.add_argument("out")
    ap.add_argument("--policy", action="append", required=True, help="NAME=URL")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()
    key = os.environ["BENCH_TEAM_KEY"]
    reqs = build_requests(args.fixtures)
    seq = plan(args.requests)
    sizes = {k: sum(len(b) for b in v) // len(v) for k, v in reqs.items()}
    models = {k: json.loads(v[0])["model"] for k, v in reqs.items()}
    lines = []
    w = lines.append
    rows = []
    all_errors = []
    for spec in args.policy:
        name, _, url = spec.partition("=")
        counters, errors, elapsed = run_policy(url, key, reqs, seq, args.workers)
        all_errors += [f"{name}: {e}" for e in errors]
        n = sum(c[0] for c in counters.values())
        routed = cost_of(counters, lambda kind, target: price_key(target.split("/", 1)[-1] if target else models[kind]))
        rows.append((name, n, routed, counters, elapsed))
    base_name, base_n, base_cost = rows[0][0], rows[0][1], rows[0][2]
    w("## Cost routing: a Claude Code-shaped mix\n")
    w(f"{args.requests} requests replayed through switchyard per policy ({args.workers} concurrent, loopback, mock provider), "
      "built from `tests/fixtures/claude-code/`: " +
      ", ".join(f"{kind} {cnt / 10:.0f}% (`{models[kind]}`, ~{sizes[kind] // 1024} KB)" for kind, cnt in MIX) + ". "
      "Each response's `x-switchyard-target` says which provider/model served it; its `usage` is priced at list prices "
      "(USD/MTok in/out: " + ", ".join(f"{k} {p[0]:g}/{p[1]:g}" for k, p in PRICES.items()) +
      "; the fixtures' `claude-opus-5-5` at Opus 4.5's). Token counts are the mock's (input ≈ bytes/4, output = words), "
      "so the dollars are illustrative and the ratios are the result.\n")
    w(f"| policy (a switchyard config) | routing rules | requests OK | USD per 1,000 requests | vs {base_name} |")
    w("|---|---|---:|---:|---:|")
    for name, n, cost, counters, _ in rows:
        rules = POLICY_RULES.get(name, name)
        w(f"| {name} | {rules} | {n} | {cost / max(n, 1) * 1000:,.2f} | {(cost / max(n, 1)) / (base_cost / max(base_n, 1)) if base_cost else 0:.2f}× |")
    w("")
    w("Where the requests went (kind → target: requests, mean input/output tokens per request):\n")
    for name, n, cost, counters, _ in rows:
        parts = []
        for (kind, target), (cnt, tin, tout) in sorted(counters.items()):
            parts.append(f"{kind} → `{target}`: {cnt}, {tin // max(cnt, 1):,}/{tout // max(cnt, 1):,}")
        w(f"- **{name}**: " + "; ".join(parts))
    w("")
    if all_errors:
        w("Errors:\n")
        for e in all_errors[:20]:
            w(f"- {e}")
        w("")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if all_errors else 0


POLICY_RULES = {
    "all-Claude": "`claude-*` → Anthropic (every request to the Claude model it names)",
    "background-to-GLM": "`claude-haiku-*` (Claude Code's small/fast model: background calls) → `glm` (OpenAI-compatible, translated); everything else → Anthropic",
    "all-to-GLM": "`claude-*` → `glm` (the floor: no Claude at all)",
}

if __name__ == "__main__":
    sys.exit(main())
