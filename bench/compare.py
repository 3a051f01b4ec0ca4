"""A/B in one run: infer0 as it is against infer0 with one experiment applied, both serving the
same data dir, their wrk rounds interleaved with the bare proxy's, then their latency at
concurrency 1 in round-robin blocks.

Why: this machine's speed drifts by more than most changes are worth (the bare proxy moves
±10 % between runs, ±25 % between rounds on a busy host), so two separate runs cannot tell a
3 % change from the weather. Interleaved rounds meet the same weather.

    bench/run.sh --compare no-malloc-tuning --rounds 8
"""

from __future__ import annotations

import statistics

from . import clients, loadgen
from .procs import PY, free_port


def phase_compare(run, chat_path: str, body: bytes) -> None:
    name = run.args.compare
    port = free_port()
    # the baseline's own launch flags (--uvloop, --experiment ...) plus NAME: B differs from A by NAME only
    argv = [PY, "-m", "bench.launch"] + (["--uvloop"] if run.args.uvloop else [])
    for experiment in [*run.args.experiment, name]:
        argv += ["--experiment", experiment]
    argv += ["--", "serve", "--data-dir", str(run.data_dir), "--port", str(port), *run.upstream_allow()]
    variant = run.spawn(f"infer0-{name}", argv, run.server_cpus)
    variant.wait_http(port, "/healthz")
    auth = run.auth("openai")
    targets = {"bare": (run.bare, run.bare_port, None), "infer0": (run.infer0, run.i0_port, auth),
               f"infer0+{name}": (variant, port, auth)}
    rounds: dict[str, list[tuple[float, float]]] = {n: [] for n in targets}
    try:
        for i in range(run.p.rounds):
            # alternate which infer0 goes first, so neither always follows the bare proxy
            order = list(targets) if i % 2 == 0 else ["bare", f"infer0+{name}", "infer0"]
            for n in order:
                proc, p, a = targets[n]
                cpu0 = proc.cpu_seconds()
                r = loadgen.run_post(f"http://127.0.0.1:{p}{chat_path}", body, a, run.p.connections,
                                     run.p.wrk_seconds, run.load_cpus)
                if r["status_errors"] or r["socket_errors"]:
                    run.broken.append(f"compare/{n}: {r['status_errors']} status, {r['socket_errors']} socket errors")
                cpu_us = (proc.cpu_seconds() - cpu0) * 1e6 / max(1, r["ok"])
                rounds[n].append((r["rps"], cpu_us))
        # latency at concurrency 1, the same round-robin blocks as the latency phase
        lat = clients.latency_c1({n: (p, clients.build_request(p, chat_path, body, a))
                                  for n, (_, p, a) in targets.items()}, run.p.c1_requests)
    finally:
        run.stop(variant)
    out = {n: {"rps": round(statistics.median(x for x, _ in rs), 1),
               "cpu_us_per_request": round(statistics.median(c for _, c in rs), 1),
               "rounds_rps": [round(x, 1) for x, _ in rs]} for n, rs in rounds.items()}
    a, b = out["infer0"], out[f"infer0+{name}"]
    # per round, B over A: the pairs share the weather, so their ratios scatter less than the medians
    pair = [rb[1] / ra[1] for ra, rb in zip(rounds["infer0"], rounds[f"infer0+{name}"])]
    out["b_over_a"] = {"rps": round(b["rps"] / a["rps"], 3), "cpu_per_request": round(b["cpu_us_per_request"] /
                                                                                      a["cpu_us_per_request"], 3),
                       "cpu_per_request_by_round": [round(x, 3) for x in pair]}
    out["latency_c1"] = lat
    run.results["compare"] = {"experiment": name, "rounds": run.p.rounds, **out}
    print(f"[bench] compare {name}: req/s {a['rps']:.0f} -> {b['rps']:.0f} ({out['b_over_a']['rps']:.3f}x), "
          f"CPU/request {a['cpu_us_per_request']:.1f} -> {b['cpu_us_per_request']:.1f} µs "
          f"(by round: {', '.join(f'{x:.3f}' for x in pair)}); bare {out['bare']['rps']:.0f} req/s")
    print("[bench] compare, concurrency 1 (µs): " + "; ".join(
        f"{n} p50 {r['p50_us']:.0f} p99 {r['p99_us']:.0f}" for n, r in lat.items()))
