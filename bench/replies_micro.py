"""Micro-benchmark: what putting OpenAI-wire streams in OpenAI's shape costs per chunk.

    .venv/bin/python -m bench.replies_micro [--streams 2000] [--chunks 64]

Feeds the same provider streams through the OpenAI-wire `StreamTranslator` three ways:

1. before: every chunk forwarded byte for byte, usage and model read (what infer0 did
   before issue 14; the `no-reply-normaliser` experiment);
2. now: `profiles.replies.StreamNormaliser` behind a byte check, so a chunk already in
   OpenAI's shape is forwarded as it came and only the others are parsed;
3. always parsed: every chunk through the normaliser (the `normalise-every-chunk` experiment).

Two streams: OpenAI's own shape (compact JSON, `"usage":null` on each chunk, a usage chunk
at the end), and a tool-calling stream (every chunk carries `tool_calls`, so every chunk is
parsed in 2 and 3). Prints CPU microseconds per chunk.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time

from infer0app.gateway.providers.base import Route
from infer0app.gateway.sse import SSEEvent

ROUTE = Route(kind="openai", wire="openai", base_url="https://x.test", model="gpt-4o-mini")
HEAD = {"id": "chatcmpl-B1", "object": "chat.completion.chunk", "created": 1727000000,
        "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_1"}


def _chunk(delta: dict, finish: str | None = None, **extra) -> str:
    obj = {**HEAD, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
           "usage": None, **extra}
    return json.dumps(obj, separators=(",", ":"))


def text_stream(chunks: int) -> list[str]:
    out = [_chunk({"role": "assistant", "content": ""})]
    out += [_chunk({"content": f"{i} "}) for i in range(chunks)]
    out.append(_chunk({}, "stop"))
    out.append(json.dumps({**HEAD, "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": chunks,
                                                            "total_tokens": 9 + chunks}}, separators=(",", ":")))
    return [*out, "[DONE]"]


def tool_stream(chunks: int) -> list[str]:
    out = [_chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                         "function": {"name": "f", "arguments": ""}}]})]
    out += [_chunk({"tool_calls": [{"index": 0, "function": {"arguments": f'"{i}'}}]}) for i in range(chunks)]
    return [*out, _chunk({}, "tool_calls"), "[DONE]"]


def run(events: list[SSEEvent], streams: int) -> float:
    from infer0app.gateway.providers import openai_compat

    start = time.process_time()
    for _ in range(streams):
        tr = openai_compat.PassthroughTranslator(ROUTE, include_usage=True, created=0)
        for event in events:
            tr.feed(event)
        tr.finish()
    return (time.process_time() - start) * 1e6 / (streams * len(events))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=64)
    args = parser.parse_args()
    from bench import experiments
    from infer0app.gateway.providers import openai_compat

    for name, make in (("text", text_stream), ("tool calls", tool_stream)):
        events = [SSEEvent(d) for d in make(args.chunks)]
        figures = {}
        for way, patch in (("now", None), ("before", experiments.no_reply_normaliser),
                           ("always parsed", experiments.normalise_every_chunk)):
            importlib.reload(openai_compat)
            if patch is not None:
                patch()
            run(events, max(args.streams // 10, 1))  # warm up
            figures[way] = run(events, args.streams)
        importlib.reload(openai_compat)
        print(f"{name:>10} stream, µs CPU per chunk: " + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
