"""POST /v1/embeddings beside the bare proxy in the same run (issue 14 §3).

The OpenAI-compatible connection's grants get an embedding model through the same service the
pages use (services/grants.update_grant_choice; a custom endpoint has no default embedding
model), then wrk rounds of bare (the pass-through proxy, forwarding the same body to the same
upstream's /v1/embeddings) and infer0 are interleaved, as in the compare and limits phases.
The app asks for base64, as the official SDK does by default; the upstream answers floats, so
the infer0 figure includes encoding them.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.error
import urllib.request

from . import loadgen

EMBEDDINGS = "/v1/embeddings"
BODY = json.dumps({"model": "bench-embed", "input": "the quick brown fox jumps over the lazy dog",
                   "encoding_format": "base64"}).encode()


def _choose_embedding_model(data_dir, provider_id: int) -> None:
    from infer0app.services import grants
    from infer0app.services.datadir import open_data_dir
    from infer0app.store.models import Grant

    store, _vault = open_data_dir(data_dir)
    try:
        for grant in list(Grant.select().where((Grant.provider == provider_id) & Grant.revoked_at.is_null())):
            grants.update_grant_choice(store, grant.user_id, grant.id, provider_id=provider_id, model=grant.model,
                                       embedding_model="bench-embed", actor="cli:bench")
    finally:
        store.close()


def phase_embeddings(run) -> None:
    _choose_embedding_model(run.data_dir, run.fx.openai_provider)
    auth = run.auth("openai")
    req = urllib.request.Request(f"http://127.0.0.1:{run.i0_port}{EMBEDDINGS}", data=BODY, method="POST",
                                 headers={"Authorization": auth, "Content-Type": "application/json"})
    for attempt in range(20):  # servers see the new choice once they poll the cache epoch (a fraction of a second)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # one call first: the route works end to end
                answer = json.loads(resp.read())
            break
        except urllib.error.HTTPError as err:
            if err.code != 409 or attempt == 19:
                raise RuntimeError(f"embeddings answered {err.code}: {err.read()[:300]!r}") from None
            time.sleep(0.1)
    if not isinstance(answer["data"][0]["embedding"], str):
        raise RuntimeError("infer0 answered floats to a base64 request")

    targets = {"bare": (run.bare, run.bare_port, None), "infer0": (run.infer0, run.i0_port, auth)}
    rounds: dict[str, list[tuple[float, float]]] = {n: [] for n in targets}
    for i in range(run.p.rounds):
        for n in (list(targets) if i % 2 == 0 else list(reversed(targets))):
            proc, port, header = targets[n]
            cpu0 = proc.cpu_seconds()
            r = loadgen.run_post(f"http://127.0.0.1:{port}{EMBEDDINGS}", BODY, header, run.p.connections,
                                 run.p.wrk_seconds, run.load_cpus)
            if r["status_errors"] or r["socket_errors"]:
                run.broken.append(f"embeddings/{n}: {r['status_errors']} status, {r['socket_errors']} socket errors")
            rounds[n].append((r["rps"], (proc.cpu_seconds() - cpu0) * 1e6 / max(1, r["ok"])))
    res = {n: {"rps": round(statistics.median(x for x, _ in rs), 1),
               "cpu_us_per_request": round(statistics.median(c for _, c in rs), 1),
               "rounds_rps": [round(x, 1) for x, _ in rs]} for n, rs in rounds.items()}
    res["infer0_over_bare"] = round(res["infer0"]["rps"] / res["bare"]["rps"], 3)
    run.results["embeddings"] = res
    print(f"[bench] embeddings: bare {res['bare']['rps']:.0f}, infer0 {res['infer0']['rps']:.0f} req/s "
          f"({res['infer0_over_bare']:.3f} of bare)")
