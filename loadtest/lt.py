#!/usr/bin/env python3
"""Helpers for loadtest/run.sh (standard library only).

  lt.py bodies FIXTURE_DIR OUT_DIR          request bodies for the scenarios
  lt.py oha OHA_JSON                        one line: rps_2xx p50_ms p99_ms total ok2xx non2xx errors
  lt.py sse FILE                            number of SSE events (data: lines) and whether the stream ended well
  lt.py report RESULTS_JSONL META_JSON OUT  the RESULTS.md (or smoke summary) from every run
  lt.py stats JSON KEY                      a value from the mock's /mock/stats JSON
"""

import json
import os
import statistics
import sys
from collections import defaultdict

# ---------------------------------------------------------------- bodies

SMALL_PROMPT = "Say hello to the switchyard load test in one short sentence, please."
STORY_PROMPT = "Tell me a short story about a railway switchyard at night, with trains arriving one by one."


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def cmd_bodies(fixture_dir, out):
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "anth-small.json"), compact({
        "model": "claude-sonnet-4-5", "max_tokens": 256,
        "messages": [{"role": "user", "content": SMALL_PROMPT}]}))
    write(os.path.join(out, "anth-stream.json"), compact({
        "model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": True,
        "messages": [{"role": "user", "content": STORY_PROMPT}]}))
    write(os.path.join(out, "oai-small.json"), compact({
        "model": "gpt-4o-mini", "max_tokens": 256,
        "messages": [{"role": "user", "content": SMALL_PROMPT}]}))
    write(os.path.join(out, "oai-stream.json"), compact({
        "model": "gpt-4o-mini", "max_tokens": 1024, "stream": True,
        "messages": [{"role": "user", "content": STORY_PROMPT}]}))
    write(os.path.join(out, "translated-stream.json"), compact({
        "model": "glm", "max_tokens": 1024, "stream": True,
        "messages": [{"role": "user", "content": STORY_PROMPT}]}))
    # The real Claude Code first turn (system prompt + 12 tool schemas), as JSON (not streamed).
    with open(os.path.join(fixture_dir, "01-opus-stream-first-turn.json"), encoding="utf-8") as f:
        fixture = json.load(f)
    body = dict(fixture["body"])
    body["stream"] = False
    data = compact(body)
    write(os.path.join(out, "anth-50k.json"), data)
    # Headers Claude Code sends with it (credentials, length, connection and encoding left out).
    skip = {"x-api-key", "authorization", "content-length", "connection", "accept-encoding"}
    hdrs = [f"{k}: {v}" for k, v in fixture["headers"].items() if k.lower() not in skip]
    write(os.path.join(out, "anth-50k.headers"), ("\n".join(hdrs) + "\n").encode())
    write(os.path.join(out, "anth-50k.model"), body["model"].encode())
    print(len(data))


# ---------------------------------------------------------------- oha

def oha_summary(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    total_s = d["summary"]["total"] or 1e-9
    codes = {int(k): v for k, v in d.get("statusCodeDistribution", {}).items()}
    ok = sum(v for k, v in codes.items() if 200 <= k < 300)
    non2xx = sum(v for k, v in codes.items() if not 200 <= k < 300)
    errors = sum(d.get("errorDistribution", {}).values())
    lat = d.get("latencyPercentiles", {})
    p50 = (lat.get("p50") or 0.0) * 1000.0
    p99 = (lat.get("p99") or 0.0) * 1000.0
    return {
        "rps": ok / total_s, "p50_ms": p50, "p99_ms": p99, "duration_s": total_s,
        "ok2xx": ok, "non2xx": non2xx, "errors": errors,
        "codes": {str(k): v for k, v in sorted(codes.items())},
        "error_kinds": d.get("errorDistribution", {}),
    }


def cmd_oha(path):
    s = oha_summary(path)
    print(json.dumps(s, separators=(",", ":")))


# ---------------------------------------------------------------- SSE

def cmd_sse(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    events = [line for line in text.replace("\r\n", "\n").split("\n") if line.startswith("data:")]
    last = events[-1][5:].strip() if events else ""
    ended = last == "[DONE]" or '"message_stop"' in last
    print(len(events), "ok" if ended else "unterminated")


def cmd_stats(path, key):
    with open(path, encoding="utf-8") as f:
        print(json.load(f).get(key, 0))


# ---------------------------------------------------------------- report

TARGET_ORDER = ["direct", "nginx", "bare", "switchyard", "litellm"]
TARGET_NAMES = {
    "direct": "mock direct (ceiling)",
    "nginx": "nginx",
    "bare": "bare Pingora",
    "switchyard": "**switchyard**",
    "litellm": "LiteLLM proxy",
}


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=1, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.{digits}f}{unit}"
    return f"{v:,}{unit}"


def cpu_per_request(run):
    """CPU time the target spent per answered request in one run, in µs: less sensitive than RPS
    to what else the shared machine was doing while the run lasted."""
    answered = (run.get("ok2xx") or 0) + (run.get("non2xx") or 0)
    cpu = run.get("cpu_s")
    if cpu is None or not answered:
        return None
    return cpu * 1e6 / answered


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def load_runs(path):
    runs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                runs.append(json.loads(line))
    return runs


def cmd_report(results_path, meta_path, out_path):
    runs = load_runs(results_path)
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    smoke = meta.get("mode") == "smoke"
    by = defaultdict(list)
    for r in runs:
        by[(r["scenario"], r["target"])].append(r)
    failures = []
    for (scen, target), rs in sorted(by.items()):
        for r in rs:
            bad = r.get("non2xx", 0) + r.get("errors", 0)
            if r.get("failed"):
                failures.append(f"{scen}/{target} run {r.get('run')}: {r['failed']}")
            elif bad or r.get("ok2xx", 0) == 0:
                failures.append(f"{scen}/{target} run {r.get('run')}: {r.get('ok2xx', 0)} ok, "
                                f"{r.get('non2xx', 0)} non-2xx {r.get('codes', {})}, {r.get('errors', 0)} errors "
                                f"{r.get('error_kinds', {})}")
    lines = []
    w = lines.append
    title = "switchyard load test" + (" — smoke run" if smoke else "")
    w(f"# {title}\n")
    w(f"Written by `{meta['command']}` on {meta['date']} (mode `{meta['mode']}`).\n")
    w("## Machine and versions\n")
    w("| | |\n|---|---|")
    for k in ["machine", "cpu", "memory", "kernel", "switchyard", "pingora", "nginx", "oha", "litellm", "settings"]:
        if meta.get(k):
            w(f"| {k} | {meta[k]} |")
    w("")
    w("Every target runs on this machine at the same time as the load generator and the mock provider "
      "(2 cores shared by all, and by other work on the machine): read the ratios, not the absolute numbers. "
      "Each cell is the **median of the runs** listed in the last column; RPS counts 2xx responses only; "
      "p50/p99 are oha's full-response latencies (for SSE: until the last event); RSS is the largest resident "
      "set sampled during the runs (all processes of the target, e.g. nginx master + worker).\n")

    scen_meta = meta.get("scenarios", {})
    order = meta.get("scenario_order") or sorted({s for s, _ in by})
    summary_rows = []
    for scen in order:
        if scen == "long-streams" or not any(k[0] == scen for k in by):
            continue
        sm = scen_meta.get(scen, {})
        w(f"## {sm.get('title', scen)}\n")
        if sm.get("desc"):
            w(sm["desc"] + "\n")
        w("| target | RPS | p50 ms | p99 ms | CPU µs/req | RSS MiB | events/resp | errors | runs (RPS) |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        med_rps = {}
        med_cpu = {}
        med_p99 = {}
        med_p50 = {}
        for t in TARGET_ORDER:
            rs = by.get((scen, t))
            if not rs:
                continue
            rps = med([r.get("rps") for r in rs])
            p50 = med([r.get("p50_ms") for r in rs])
            p99 = med([r.get("p99_ms") for r in rs])
            rss = med([r.get("rss_kib_max") for r in rs])
            errs = sum(r.get("non2xx", 0) + r.get("errors", 0) for r in rs)
            ev = rs[0].get("events")
            cpu = med([cpu_per_request(r) for r in rs])
            med_rps[t], med_p99[t], med_p50[t], med_cpu[t] = rps, p99, p50, cpu
            each = ", ".join(fmt(r.get("rps"), 0) for r in rs)
            w(f"| {TARGET_NAMES[t]} | {fmt(rps, 0)} | {fmt(p50, 2)} | {fmt(p99, 2)} | {fmt(cpu, 1)} | "
              f"{fmt(rss / 1024.0 if rss else None, 1)} | {fmt(ev) if ev is not None else '—'} | {errs} | {each} |")
        w("")
        sy = med_rps.get("switchyard")
        ref = sm.get("bare_ref", scen)
        bare_rps = med([r.get("rps") for r in by.get((ref, "bare"), [])])
        bare_p99 = med([r.get("p99_ms") for r in by.get((ref, "bare"), [])])
        rr = {
            "bare": ratio(sy, bare_rps),
            "nginx": ratio(sy, med_rps.get("nginx")),
            "direct": ratio(sy, med_rps.get("direct")),
            "litellm": ratio(sy, med_rps.get("litellm")),
        }
        bare_cpu = med([cpu_per_request(r) for r in by.get((ref, "bare"), [])])
        cpu_ratio = ratio(bare_cpu, med_cpu.get("switchyard"))
        p99_delta = (med_p99.get("switchyard") - bare_p99) if (med_p99.get("switchyard") is not None and bare_p99 is not None) else None
        parts = []
        if rr["bare"] is not None:
            label = "switchyard / bare Pingora" + (f" (bare Pingora on `{ref}`)" if ref != scen else "")
            parts.append(f"{label}: **{rr['bare']:.2f}×** RPS, p99 {p99_delta:+.2f} ms"
                         + (f", CPU per request {cpu_ratio:.2f}× as efficient" if cpu_ratio is not None else ""))
        for k, name in [("nginx", "nginx"), ("direct", "direct"), ("litellm", "LiteLLM")]:
            if rr[k] is not None:
                parts.append(f"switchyard / {name}: **{rr[k]:.2f}×**")
        if parts:
            w("Ratios (medians): " + "; ".join(parts) + ".\n")
        rr["cpu"] = cpu_ratio
        summary_rows.append((scen, sm, rr, p99_delta))

    ls = [(t, by[("long-streams", t)]) for t in TARGET_ORDER if ("long-streams", t) in by]
    if ls:
        sm = scen_meta.get("long-streams", {})
        w(f"## {sm.get('title', 'long-streams')}\n")
        if sm.get("desc"):
            w(sm["desc"] + "\n")
        w("| target | streams open at sample | RSS before MiB | RSS during MiB | **KiB per open stream** | RSS after MiB | completed 2xx | errors | runs (KiB/stream) |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        per_stream = {}
        for t, rs in ls:
            per = med([r.get("per_stream_kib") for r in rs])
            per_stream[t] = per
            before = med([r.get("rss_before_kib") for r in rs])
            during = med([r.get("rss_during_kib") for r in rs])
            after = med([r.get("rss_after_kib") for r in rs])
            opened = med([r.get("opened") for r in rs])
            ok = med([r.get("ok2xx") for r in rs])
            errs = sum(r.get("non2xx", 0) + r.get("errors", 0) for r in rs)
            each = ", ".join(fmt(r.get("per_stream_kib"), 1) for r in rs)
            mib = lambda v: fmt(v / 1024.0 if v else None, 1)
            w(f"| {TARGET_NAMES[t]} | {fmt(opened)} | {mib(before)} | {mib(during)} | {fmt(per, 1)} | {mib(after)} | "
              f"{fmt(ok)} | {errs} | {each} |")
        w("")
        summary_rows.append(("long-streams", sm, {"per_stream": per_stream.get("switchyard")}, None))

    if not smoke:
        w("## Targets (from issue 7)\n")
        w("| scenario | target | measured | met? |")
        w("|---|---|---|---|")
        for scen, sm, rr, p99d in summary_rows:
            if scen == "long-streams":
                v = rr.get("per_stream")
                w(f"| {scen} | < 64 KiB per open idle stream | {fmt(v, 1)} KiB | {yes(v is not None and v < 64)} |")
                continue
            kind = sm.get("kind", "")
            if kind == "passthrough" and rr["bare"] is not None:
                w(f"| {scen} | ≥ 0.9× bare Pingora RPS | {rr['bare']:.2f}× | {yes(rr['bare'] >= 0.9)} |")
                w(f"| {scen} | p99 ≤ bare Pingora + 0.5 ms | {p99d:+.2f} ms | {yes(p99d <= 0.5)} |")
            if kind == "translated" and rr["bare"] is not None:
                w(f"| {scen} | ≥ 0.7× bare Pingora RPS | {rr['bare']:.2f}× | {yes(rr['bare'] >= 0.7)} |")
            if rr.get("cpu") is not None:
                w(f"| {scen} | (context) bare Pingora's CPU per request ÷ switchyard's | {rr['cpu']:.2f}× | — |")
            if rr.get("litellm") is not None:
                w(f"| {scen} | ≥ 50× LiteLLM RPS | {rr['litellm']:.0f}× | {yes(rr['litellm'] >= 50)} |")
        w("")
        if meta.get("notes_file") and os.path.exists(meta["notes_file"]):
            with open(meta["notes_file"], encoding="utf-8") as f:
                w(f.read().rstrip() + "\n")

    if meta.get("cost_file") and os.path.exists(meta["cost_file"]):
        with open(meta["cost_file"], encoding="utf-8") as f:
            w(f.read().rstrip() + "\n")

    if failures:
        w("## Failed runs\n")
        for f_ in failures:
            w(f"- {f_}")
        w("")
    w("## Raw data\n")
    w(f"Per-run oha JSON, logs and configs: `{meta.get('out_dir_rel', meta.get('out_dir'))}` (not committed).\n")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    if failures:
        print("FAILED runs:", file=sys.stderr)
        for f_ in failures:
            print("  " + f_, file=sys.stderr)
        sys.exit(1)


def yes(ok):
    return "yes" if ok else "**no**"


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "bodies":
        cmd_bodies(*args)
    elif cmd == "oha":
        cmd_oha(*args)
    elif cmd == "sse":
        cmd_sse(*args)
    elif cmd == "stats":
        cmd_stats(*args)
    elif cmd == "report":
        cmd_report(*args)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
