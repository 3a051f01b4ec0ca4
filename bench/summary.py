"""Turns a run's raw results into the table rows (each with its ratio to the bare proxy of the
same run) and the issue's targets, each marked met or not. Missing phases give empty cells."""

from __future__ import annotations

from .report import ratio


def _get(d: dict, *path, default=None):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def _sub(a, b):
    return None if a is None or b is None else round(a - b, 3)


def summarize(res: dict) -> tuple[list[dict], list[dict]]:
    rows: list[dict] = []
    checks: list[dict] = []

    def row(metric, infer0=None, bare=None, direct=None, unit="", target="", ok=None, r="auto"):
        rows.append({"metric": metric, "infer0": infer0, "bare": bare, "direct": direct, "unit": unit,
                     "ratio": ratio(infer0, bare) if r == "auto" else r, "target": target, "ok": ok})
        if target:
            checks.append({"metric": metric, "target": target, "infer0": infer0, "bare": bare, "ok": ok})

    def at_least(value, limit):
        return None if value is None or limit is None else value >= limit

    def at_most(value, limit):
        return None if value is None or limit is None else value <= limit

    # A figure measured on failing requests is no figure: blank it (the run reports it broken).
    tp = {k: v for k, v in _get(res, "throughput", "targets", default={}).items()
          if not v.get("status_errors") and not v.get("socket_errors")}
    conns = _get(res, "throughput", "connections", default=32)
    bare_rps = _get(tp, "bare", "rps")
    for name, label, share in (("infer0_openai", "OpenAI-compatible", 0.60), ("infer0_anthropic", "Anthropic-translated", 0.45)):
        v = _get(tp, name, "rps")
        row(f"req/s at {conns} connections, {label}", v, bare_rps, _get(tp, "direct", "rps"), "",
            f"≥ {share:.0%} of bare", at_least(ratio(v, bare_rps), share))

    row("  server CPU per request, OpenAI (µs)", _get(tp, "infer0_openai", "server_cpu_us_per_request"),
        _get(tp, "bare", "server_cpu_us_per_request"), _get(tp, "direct", "server_cpu_us_per_request"))
    row("  server CPU per request, Anthropic (µs)", _get(tp, "infer0_anthropic", "server_cpu_us_per_request"),
        _get(tp, "bare", "server_cpu_us_per_request"), _get(tp, "direct", "server_cpu_us_per_request"))

    lim = _get(res, "limits", default={})
    if lim:  # measured in its own interleaved rounds, beside its own bare figure
        row("req/s, OpenAI-compatible, grant with rpm + tokens/day + spend/month limits",
            _get(lim, "infer0_limited", "rps"), _get(lim, "bare", "rps"), None, "", "≥ 60% of bare",
            at_least(lim.get("limited_over_bare"), 0.60))
        row("  same rounds, no limits (req/s)", _get(lim, "infer0", "rps"), _get(lim, "bare", "rps"))
        row("  server CPU per request, limited / no limits (µs)", _get(lim, "infer0_limited", "cpu_us_per_request"),
            _get(lim, "infer0", "cpu_us_per_request"), r=None)

    lat = {k: v for k, v in _get(res, "latency_c1", default={}).items() if not v.get("errors")}
    p50 = {n: _get(lat, n, "p50_us") for n in ("direct", "bare", "infer0_openai", "infer0_anthropic", "bare_anthropic")}
    p99 = {n: _get(lat, n, "p99_us") for n in p50}
    row("p50 latency at concurrency 1, OpenAI (µs)", p50["infer0_openai"], p50["bare"], p50["direct"], "",
        "≤ bare + 150 µs", at_most(_sub(p50["infer0_openai"], p50["bare"]), 150))
    row("  added p50 over direct (µs)", _sub(p50["infer0_openai"], p50["direct"]), _sub(p50["bare"], p50["direct"]))
    row("  added p99 over direct (µs)", _sub(p99["infer0_openai"], p99["direct"]), _sub(p99["bare"], p99["direct"]))
    row("p50 latency at concurrency 1, Anthropic (µs)", p50["infer0_anthropic"], p50["bare_anthropic"], p50["direct"])

    st = {k: v for k, v in _get(res, "streaming", "targets", default={}).items() if not v.get("errors")}
    chunks = _get(res, "streaming", "chunks", default=64)
    ttft = {n: _get(st, n, "ttft_p50_ms") for n in ("direct", "bare", "infer0_openai", "infer0_anthropic", "bare_anthropic")}
    row(f"TTFT p50, {chunks}-chunk stream, OpenAI (ms)", ttft["infer0_openai"], ttft["bare"], ttft["direct"], "",
        "≤ bare + 0.5 ms", at_most(_sub(ttft["infer0_openai"], ttft["bare"]), 0.5))
    row("  added TTFT p50 over direct (ms)", _sub(ttft["infer0_openai"], ttft["direct"]), _sub(ttft["bare"], ttft["direct"]))
    row("TTFT p50, Anthropic-translated (ms)", ttft["infer0_anthropic"], ttft["bare_anthropic"], ttft["direct"])
    row("inter-chunk gap p99, OpenAI (ms)", _get(st, "infer0_openai", "gap_p99_ms"), _get(st, "bare", "gap_p99_ms"),
        _get(st, "direct", "gap_p99_ms"))
    if st:
        lost = sum((_get(st, n, "lost_chunks", default=0) or 0) + (_get(st, n, "reordered_chunks", default=0) or 0)
                   for n in ("infer0_openai", "infer0_anthropic"))
        row("lost + reordered chunks, timed streams", lost, (_get(st, "bare", "lost_chunks", default=0) or 0)
            + (_get(st, "bare", "reordered_chunks", default=0) or 0), None, "", "0", lost == 0, r=None)

    ms = _get(res, "many_streams", "targets", default={})
    n = _get(res, "many_streams", "streams")
    if ms:
        def bad(x):
            return None if not x else x["lost"] + x["reordered"] + x["failed"]
        i0, b = _get(ms, "infer0_openai"), _get(ms, "bare")
        row(f"{n} concurrent streams: lost + reordered + failed", bad(i0), bad(b), None, "", "0",
            None if bad(i0) is None else bad(i0) == 0, r=None)
        row(f"RSS with {n} concurrent streams (MB)", _get(i0, "peak_rss_mb"), _get(b, "peak_rss_mb"), None, "",
            "≤ 200 MB" if n and n >= 1000 else "", at_most(_get(i0, "peak_rss_mb"), 200) if n and n >= 1000 else None)
    idle = _get(res, "rss_idle_mb", default={})
    row("RSS idle (MB)", idle.get("infer0"), idle.get("bare"), None, "", "≤ 80 MB", at_most(idle.get("infer0"), 80))

    tok = _get(res, "token_endpoint", default={})
    for name, label in (("code_exchange", "token endpoint, code exchange (req/s; vs bare pass-through)"),
                        ("refresh", "token endpoint, refresh (req/s; vs bare pass-through)")):
        v = None if _get(tok, name, "status_errors") else _get(tok, name, "rps")
        row(label, v, bare_rps, None, "", "≥ 1,500 req/s" if name == "code_exchange" else "",
            at_least(v, 1500) if name == "code_exchange" else None)
        row("  server CPU per token request (µs)", _get(tok, name, "server_cpu_us_per_request"))

    su = _get(res, "startup_ms", default={})
    row("start-up to first /healthz 200 (ms)", su.get("infer0"), su.get("bare"))

    wk = _get(res, "workers", default={})
    if wk.get("supported"):
        w1, w2 = _get(wk, "1", "rps"), _get(wk, "2", "rps")
        row("serve --workers 1, req/s (unpinned)", w1, bare_rps)
        row("serve --workers 2, req/s (unpinned)", w2, bare_rps, None, "", "> workers 1", at_least(w2, (w1 or 0) * 1.1))
    elif wk:
        row("serve --workers N: not implemented yet", None, None, None, "", "1 and 2 workers", None)
    return rows, checks
