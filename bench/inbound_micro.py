"""Micro-benchmark: what the inbound stream translators cost per chat chunk.

    .venv/bin/python -m bench.inbound_micro [--streams 1000] [--chunks 64] [--rounds 5]

Feeds the same chat streams (a text stream and a tool-calling stream, shaped like OpenAI's,
from bench/replies_micro.py) through `MessagesStream` (/v1/messages) and `ResponsesStream`
(/v1/responses), frame by frame as the pipeline yields them. Prints the best of `--rounds`
CPU microseconds per chunk for each translator and stream (best-of, since a shared machine
only ever adds time).
"""

from __future__ import annotations

import argparse
import time

from bench.replies_micro import text_stream, tool_stream
from infer0app.gateway.inbound.messages_stream import MessagesStream
from infer0app.gateway.inbound.responses_stream import ResponsesStream


def _frames(chunks: list[str]) -> list[bytes]:
    return [f"data: {c}\n\n".encode() for c in chunks]


def _messages(frames: list[bytes]) -> None:
    tr = MessagesStream(model="m")
    for frame in frames:
        tr.feed_frame(frame)
    tr.finish()


def _responses(frames: list[bytes]) -> None:
    tr = ResponsesStream({"input": "x"}, model="m", created_at=0)
    tr.start()
    for frame in frames:
        tr.feed_frame(frame)
    tr.finish()


def per_chunk_us(run, frames: list[bytes], streams: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(streams):
            run(frames)
        best = min(best, time.process_time() - start)
    return best / (streams * len(frames)) * 1e6


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.inbound_micro", description=__doc__.split("\n")[0])
    p.add_argument("--streams", type=int, default=1000)
    p.add_argument("--chunks", type=int, default=64)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    streams = {"text": _frames(text_stream(args.chunks)), "tools": _frames(tool_stream(args.chunks))}
    for name, run in (("messages", _messages), ("responses", _responses)):
        for kind, frames in streams.items():
            print(f"{name:9} {kind:5} {per_chunk_us(run, frames, args.streams, args.rounds):6.2f} µs/chunk")


if __name__ == "__main__":
    main()
