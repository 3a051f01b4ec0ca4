"""The fakes' shared, deterministic "model": what to answer, in provider-neutral terms.

Each fake turns its provider's request into an `Ask` and the `Reply` into its provider's
response shape, so all fakes behave alike and tests can predict the answers:

* last turn is a tool result -> text `The tool said: <result>.`
* tools offered and tool_choice is not none -> a call to the named tool or the first one
  (the first two with `Knobs.parallel_tools`), arguments from the tool's schema
  (`location` -> "Paris", other strings -> the user's text, integers -> 3);
* JSON mode -> `{"answer": "<user text>"}`; a JSON schema -> an example object;
* otherwise `Hello! You said: <user text>` plus ` I see N image(s).` when images came.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Knobs:
    """Behaviour switches a test may flip on a running fake (`fake.knobs.x = ...`)."""

    fail_status: int | None = None  # every chat/models request answers this status
    echo_in_errors: bool = False  # a fail_status error quotes the request body, as some providers echo input
    retry_after: str | None = "7"  # sent with a 429
    delay: float = 0.0  # seconds before answering (to provoke timeouts)
    stream_delay: float = 0.0  # seconds between stream events
    stall_after: int | None = None  # stop sending (but keep the connection) after this many frames
    error_mid_stream: bool = False  # an error event / chunk after the first text delta
    error_first: bool = False  # an error event before any content (Anthropic)
    parallel_tools: bool = False  # call the first two tools at once
    reply: str | None = None  # fixed text reply
    no_done: bool = False  # OpenAI-wire stream ends without `data: [DONE]`
    set_cookie: str | None = None  # a Set-Cookie on every non-streamed answer (as Cloudflare's __cf_bm in front of real APIs)
    # OpenAI-wire provider quirks (issue 14): what real providers other than OpenAI do
    mistral: bool = False  # Mistral's strict schema: 422 extra_forbidden on unknown fields (stream_options
    #                        included) and on role `developer`; usage always on the finish chunk
    usage_on_finish: bool = False  # usage rides on the finish chunk, never in a usage-only chunk (Together)
    tool_delta_no_index: bool = False  # streamed tool-call deltas without `index` (some OpenAI-compatible servers)
    no_finish_reason: bool = False  # the last chunk leaves finish_reason null, then [DONE]


@dataclass
class Turn:
    role: str  # "user" | "assistant" | "tool"
    text: str = ""
    images: int = 0
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Ask:
    turns: list[Turn]
    tools: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tool_choice: Any = "auto"  # "auto" | "none" | "required" | ("named", name)
    json_mode: Any = None  # None | "object" | a schema dict
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    parallel_allowed: bool = True


@dataclass
class Reply:
    text: str | None
    calls: list[tuple[str, str, dict[str, Any]]]
    finish: str  # "stop" | "length" | "tool_calls" | "stop_sequence"
    stop_sequence: str | None
    prompt_tokens: int
    completion_tokens: int


_WORD = re.compile(r"\S+")


def words(text: str) -> int:
    return len(_WORD.findall(text))


def example(schema: Any, text: str, name: str = "") -> Any:
    if not isinstance(schema, dict):
        return text
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        required = schema.get("required")
        return {k: example(v, text, k) for k, v in props.items() if required is None or k in required}
    if kind == "array":
        return [example(schema.get("items") or {}, text)]
    if kind in ("integer", "number"):
        return 3
    if kind == "boolean":
        return True
    return "Paris" if name in ("location", "city") else (text or "x")


def think(ask: Ask, knobs: Knobs, *, id_prefix: str = "call_") -> Reply:
    user_text, images = "", 0
    for turn in reversed(ask.turns):
        if turn.role == "user" and (turn.text or turn.images):
            user_text, images = turn.text, turn.images
            break
    prompt = sum(3 + words(t.text) + 85 * t.images for t in ask.turns)
    last = ask.turns[-1] if ask.turns else Turn("user")
    calls: list[tuple[str, str, dict[str, Any]]] = []
    text: str | None = None
    if last.role == "tool":
        text = f"The tool said: {last.text}."
    elif ask.tools and ask.tool_choice != "none":
        chosen = ask.tools[:1]
        if isinstance(ask.tool_choice, tuple):
            chosen = [t for t in ask.tools if t[0] == ask.tool_choice[1]][:1] or chosen
        elif knobs.parallel_tools and ask.parallel_allowed:
            chosen = ask.tools[:2]
        earlier = sum(len(t.calls) for t in ask.turns)
        calls = [(f"{id_prefix}{earlier + i + 1:04d}", name, example(schema, user_text) or {})
                 for i, (name, schema) in enumerate(chosen)]
    elif ask.json_mode == "object":
        text = '{"answer": "' + user_text.replace('"', "'") + '"}'
    elif isinstance(ask.json_mode, dict):
        text = json.dumps(example(ask.json_mode, user_text))
    else:
        text = knobs.reply or f"Hello! You said: {user_text}"
        if images:
            text += f" I see {images} image{'s' if images > 1 else ''}."
    finish, stop_seq = ("tool_calls" if calls else "stop"), None
    if text is not None:
        for seq in ask.stop:
            if seq and seq in text:
                text, finish, stop_seq = text[: text.index(seq)], "stop_sequence", seq
                break
        if ask.max_tokens is not None and words(text) > ask.max_tokens:
            text, finish = " ".join(_WORD.findall(text)[: ask.max_tokens]), "length"
    completion = words(text or "") + sum(1 + len(args) for _, _, args in calls)
    return Reply(text, calls, finish, stop_seq, prompt, completion)


def pieces(text: str, size: int = 2) -> list[str]:
    """Split text into stream deltas of `size` words (keeping the spaces)."""
    parts = re.findall(r"\S+\s*|\s+", text)
    return ["".join(parts[i : i + size]) for i in range(0, len(parts), size)] or [""]
