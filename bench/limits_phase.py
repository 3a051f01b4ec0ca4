"""The chat path with limits enforced, beside the bare proxy and the unlimited grant in the same
run (issue 13: >= 0.60 of bare req/s).

A fourth OAuth app gets a grant on the OpenAI-compatible connection through the real consent
flow; its limits are then set through the same service the pages use
(services/grant_limits.set_grant_limits): requests per minute, tokens per day and spend per
month, each far above what the run can use, so every call reserves against all three caps
and settles, and none is refused. The connection gets a user price for the bench model, so
the spend cap is enforced (a model with an unknown price skips spend caps). Then wrk rounds
of bare, infer0 (no limits) and infer0 (limited) are interleaved, as in the compare phase.
"""

from __future__ import annotations

import asyncio
import statistics
import urllib.request
from decimal import Decimal

from . import loadgen
from .setup_infer0 import Client, OAuthBrowser, cli

CAPS = {"requests_per_minute": 100_000_000, "tokens_per_day": 10**12, "spend_per_month_usd": Decimal(1_000_000)}
BENCH_PRICE = (0.15, 0.6)  # USD per million tokens, input and output (gpt-4o-mini's list price)


def _limit_grant(data_dir, client_id: str, provider_id: int) -> None:
    from infer0app.services.datadir import open_data_dir
    from infer0app.services.grant_limits import GrantLimits, set_grant_limits
    from infer0app.services.limit_ledger import set_connection_price
    from infer0app.services.pricing import Price
    from infer0app.store.models import Grant, OAuthApp

    store, _vault = open_data_dir(data_dir)
    try:
        grant = (Grant.select(Grant.id).join(OAuthApp).where((OAuthApp.client_id == client_id)
                                                            & Grant.revoked_at.is_null()).get())
        set_grant_limits(store, grant.id, GrantLimits(**CAPS), actor="cli:bench")
        set_connection_price(store, provider_id, "bench-model", Price(*BENCH_PRICE))
    finally:
        store.close()


def phase_limits(run, chat_path: str, body: bytes) -> None:
    from .setup_infer0 import EMAIL, REDIRECT_URI
    out = cli(run.data_dir, "apps", "create", "--owner", EMAIL, "--name", "bench limited", "--redirect-uri",
              REDIRECT_URI)
    app = Client(out["client_id"], out["client_secret"])

    async def token() -> str:
        browser = OAuthBrowser(f"http://127.0.0.1:{run.i0_port}", app)
        try:
            await browser.login()
            return (await browser.tokens(run.fx.openai_provider))["access_token"]
        finally:
            await browser.close()
    limited = f"Bearer {asyncio.run(token())}"
    _limit_grant(run.data_dir, app.client_id, run.fx.openai_provider)

    # One call first: limits are enforced (the answer carries the x-ratelimit headers).
    req = urllib.request.Request(f"http://127.0.0.1:{run.i0_port}{chat_path}", data=body, method="POST",
                                 headers={"Authorization": limited, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        if "x-ratelimit-remaining-requests" not in resp.headers:
            raise RuntimeError(f"limited grant answered without x-ratelimit headers: {dict(resp.headers)}")

    targets = {"bare": (run.bare, run.bare_port, None), "infer0": (run.infer0, run.i0_port, run.auth("openai")),
               "infer0_limited": (run.infer0, run.i0_port, limited)}
    rounds: dict[str, list[tuple[float, float]]] = {n: [] for n in targets}
    for i in range(run.p.rounds):
        order = list(targets) if i % 2 == 0 else ["bare", "infer0_limited", "infer0"]
        for n in order:
            proc, port, auth = targets[n]
            cpu0 = proc.cpu_seconds()
            r = loadgen.run_post(f"http://127.0.0.1:{port}{chat_path}", body, auth, run.p.connections,
                                 run.p.wrk_seconds, run.load_cpus)
            if r["status_errors"] or r["socket_errors"]:
                run.broken.append(f"limits/{n}: {r['status_errors']} status, {r['socket_errors']} socket errors")
            rounds[n].append((r["rps"], (proc.cpu_seconds() - cpu0) * 1e6 / max(1, r["ok"])))
    res = {n: {"rps": round(statistics.median(x for x, _ in rs), 1),
               "cpu_us_per_request": round(statistics.median(c for _, c in rs), 1),
               "rounds_rps": [round(x, 1) for x, _ in rs]} for n, rs in rounds.items()}
    lim, plain, bare = res["infer0_limited"], res["infer0"], res["bare"]
    res["limited_over_bare"] = round(lim["rps"] / bare["rps"], 3)
    res["limited_over_unlimited"] = round(lim["rps"] / plain["rps"], 3)
    res["limited_over_bare_by_round"] = [round(a[0] / b[0], 3) for a, b in zip(rounds["infer0_limited"],
                                                                               rounds["bare"])]
    res["enforcement_cpu_us_per_request"] = round(lim["cpu_us_per_request"] - plain["cpu_us_per_request"], 1)
    res["caps"] = {k: str(v) for k, v in CAPS.items()}
    run.results["limits"] = res
    print(f"[bench] limits: bare {bare['rps']:.0f}, infer0 {plain['rps']:.0f}, infer0 limited {lim['rps']:.0f} req/s "
          f"({res['limited_over_bare']:.3f} of bare, {res['limited_over_unlimited']:.3f} of unlimited); CPU/request "
          f"{plain['cpu_us_per_request']:.1f} -> {lim['cpu_us_per_request']:.1f} µs")
