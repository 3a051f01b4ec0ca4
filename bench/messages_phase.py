"""POST /v1/messages beside the bare proxy in the same run (issue 14 §3).

Targets, wrk rounds interleaved (order alternating between rounds, as in the limits phase):

- `bare`: the bare proxy forwarding `POST /v1/messages` to the fake Anthropic upstream (the ceiling);
- `infer0_chat_anthropic`: `/v1/chat/completions` on the Anthropic grant (chat translated to
  Anthropic), the reference the two below are read against;
- `infer0_messages_native`: `/v1/messages` on the Anthropic grant: the body passes through;
- `infer0_messages_translated`: `/v1/messages` on the OpenAI-compatible grant: Messages ->
  chat -> the OpenAI wire -> back to a Messages answer.

Each target is called once first and must answer 200 with an Anthropic `message`.
"""

from __future__ import annotations

import json
import statistics
import urllib.request

from . import loadgen

MESSAGES = "/v1/messages"
BODY = json.dumps({"model": "bench-model", "max_tokens": 64,
                   "messages": [{"role": "user", "content": "Say hello to the benchmark."}]}).encode()


def _check(url: str, body: bytes, auth: str | None, want: str) -> None:
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        got = json.loads(resp.read())
    if got.get("object", got.get("type")) != want:
        raise RuntimeError(f"{url} answered {str(got)[:300]}")


def phase_messages(run, chat_path: str, chat_body: bytes) -> None:
    base = f"http://127.0.0.1:{run.i0_port}"
    targets = {
        "bare": (run.bare, f"http://127.0.0.1:{run.bare_port}{MESSAGES}", BODY, None, "message"),
        "infer0_chat_anthropic": (run.infer0, base + chat_path, chat_body, run.auth("anthropic"), "chat.completion"),
        "infer0_messages_native": (run.infer0, base + MESSAGES, BODY, run.auth("anthropic"), "message"),
        "infer0_messages_translated": (run.infer0, base + MESSAGES, BODY, run.auth("openai"), "message"),
    }
    for _proc, url, body, auth, want in targets.values():
        _check(url, body, auth, want)
    names = list(targets)
    rounds: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    for i in range(run.p.rounds):
        for n in (names if i % 2 == 0 else [names[0], *reversed(names[1:])]):
            proc, url, body, auth, _ = targets[n]
            cpu0 = proc.cpu_seconds()
            r = loadgen.run_post(url, body, auth, run.p.connections, run.p.wrk_seconds, run.load_cpus)
            if r["status_errors"] or r["socket_errors"]:
                run.broken.append(f"messages/{n}: {r['status_errors']} status, {r['socket_errors']} socket errors")
            rounds[n].append((r["rps"], (proc.cpu_seconds() - cpu0) * 1e6 / max(1, r["ok"])))
    res = {n: {"rps": round(statistics.median(x for x, _ in rs), 1),
               "cpu_us_per_request": round(statistics.median(c for _, c in rs), 1),
               "rounds_rps": [round(x, 1) for x, _ in rs]} for n, rs in rounds.items()}
    bare = res["bare"]["rps"]
    for n in names[1:]:
        res[n]["over_bare"] = round(res[n]["rps"] / bare, 3) if bare else None
    run.results["messages"] = res
    print("[bench] messages: " + ", ".join(f"{n} {r['rps']:.0f} req/s" for n, r in res.items()))
