"""Helpers for golden transcripts and for reading OpenAI SSE frames in tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infer0app.gateway.sse import SSEParser

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "transcripts"


def load_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def load_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load_expected_frames(name: str) -> list[Any]:
    """`*.expected.jsonl`: one JSON chunk per line, or the literal [DONE]."""
    out: list[Any] = []
    for line in (FIXTURES / name).read_text().splitlines():
        if line.strip():
            out.append("[DONE]" if line.strip() == "[DONE]" else json.loads(line))
    return out


def run_translator(translator: Any, raw: bytes, *, chunk_size: int | None = None) -> list[bytes]:
    """Feed a raw upstream SSE body through a translator the way the pipeline does."""
    parser = SSEParser()
    frames: list[bytes] = []
    size = chunk_size or len(raw) or 1
    for start in range(0, len(raw), size):
        for event in parser.feed(raw[start : start + size]):
            frames.extend(translator.feed(event))
    for event in parser.flush():
        frames.extend(translator.feed(event))
    frames.extend(translator.finish())
    return frames


def decode_frames(frames: list[bytes]) -> list[Any]:
    """OpenAI SSE frames -> parsed chunks (dicts) and "[DONE]"; checks the framing."""
    parser = SSEParser()
    out: list[Any] = []
    for frame in frames:
        assert frame.endswith(b"\n\n"), frame
        events = parser.feed(frame)
        assert len(events) == 1, frame
        data = events[0].data
        out.append("[DONE]" if data == "[DONE]" else json.loads(data))
    return out


def assemble(frames: list[bytes]) -> dict[str, Any]:
    """Accumulate OpenAI chunks like an SDK does: content, tool calls by index, finish
    reason, usage, errors, and whether the stream ended with [DONE]."""
    chunks = decode_frames(frames)
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    out: dict[str, Any] = {"finish_reason": None, "usage": None, "errors": [], "done": chunks[-1:] == ["[DONE]"],
                           "model": None, "role": None}
    for chunk in chunks:
        if chunk == "[DONE]":
            continue
        if "error" in chunk:
            out["errors"].append(chunk["error"])
            continue
        out["model"] = out["model"] or chunk.get("model")
        if chunk.get("usage"):
            out["usage"] = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            out["role"] = out["role"] or delta.get("role")
            if delta.get("content"):
                content.append(delta["content"])
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call["index"], {"id": None, "type": "function",
                                                        "function": {"name": "", "arguments": ""}})
                if call.get("id"):
                    slot["id"] = call["id"]
                fn = call.get("function") or {}
                slot["function"]["name"] += fn.get("name") or ""
                slot["function"]["arguments"] += fn.get("arguments") or ""
            if choice.get("finish_reason"):
                out["finish_reason"] = choice["finish_reason"]
    out["content"] = "".join(content) if content else None
    out["tool_calls"] = [calls[i] for i in sorted(calls)]
    return out
