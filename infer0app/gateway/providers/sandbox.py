"""The sandbox provider: no upstream, deterministic answers derived from the input.

For app developers (and tests) who need the whole contract without a paid key:

* plain chat: `Sandbox reply: you said "<last user text>"`, noting attached images;
* `tools` offered and `tool_choice` not "none": one call to the named tool (or the first
  one) with arguments built from its JSON schema (strings echo the user's words,
  integers count them, booleans are true, enums take their first value), id derived
  from the conversation; a schema without properties gets `{}`;
* after a `tool` message: a text answer quoting the tool result;
* `response_format` json_object -> `{"reply": ...}`; json_schema -> an example object
  of the schema;
* `max_tokens` / `max_completion_tokens` truncate the reply (finish_reason "length");
  `stop` cuts it; `n` repeats the choice; streaming sends a role chunk, a chunk per
  three words (arguments in two fragments for tool calls), the finish chunk, the usage
  chunk when asked, then `[DONE]`.

Tokens are counted as whitespace-separated words, plus 4 per input message.

The sandbox is an OpenAI-wire provider that lives in-process: `SandboxAdapter` builds
the same request as `openai_compat`, and `SandboxUpstream` answers it (a JSON body, the
whole SSE stream, or the model list) where an HTTP server would; the pipeline then
parses that answer like any other. So the sandbox exercises the same adapter calls,
stream translator and usage accounting as a paid provider.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from infer0app.gateway.providers.base import (
    CAPABILITIES,
    LocalAnswer,
    LocalUpstream,
    ParamSupport,
    Route,
    UpstreamRequest,
    Usage,
    dump_json,
)
from infer0app.gateway.providers.openai_compat import OpenAICompatAdapter
from infer0app.gateway.sse import DONE_FRAME, encode_json

MODELS = ("sandbox-echo-1",)
_SUPPORT = ParamSupport(capabilities=CAPABILITIES - {"logprobs"})  # fields it takes: profiles/table.py
_WORD = re.compile(r"\S+")
_JSON = {"content-type": "application/json"}
_SSE = {"content-type": "text/event-stream"}


@dataclass(frozen=True)
class Plan:
    content: str | None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish: str = "stop"


def words(text: str) -> int:
    return len(_WORD.findall(text))


def _text_of(content: Any) -> tuple[str, int]:
    if isinstance(content, str):
        return content, 0
    text, images = [], 0
    for part in content or []:
        if isinstance(part, dict) and part.get("type") == "text":
            text.append(str(part.get("text") or ""))
        elif isinstance(part, dict) and part.get("type") in ("image_url", "input_image"):
            images += 1
    return " ".join(text), images


def example(schema: Any, text: str, depth: int = 0) -> Any:
    """An example value of a JSON schema; keywords of the wrong type (an `enum` that is not an
    array, `properties` not an object, `required` not an array) are ignored, not a 500."""
    if not isinstance(schema, Mapping) or depth > 6:
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        required = schema.get("required")
        keys = [k for k in props if not isinstance(required, list) or k in required]
        return {k: example(props[k], text, depth + 1) for k in keys}
    if kind == "array":
        return [example(schema.get("items") or {"type": "string"}, text, depth + 1)]
    if kind == "integer":
        return words(text)
    if kind == "number":
        return float(words(text))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return text[:60] or "sandbox"


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def plan(body: Mapping[str, Any]) -> Plan:
    messages = body["messages"]
    last = messages[-1]
    user_text, images = "", 0
    for msg in reversed(messages):
        if msg.get("role") == "user":
            user_text, images = _text_of(msg.get("content"))
            break
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and isinstance(t.get("function"), dict)]
    choice = body.get("tool_choice", "auto")
    if last.get("role") in ("tool", "function"):
        result, _ = _text_of(last.get("content"))
        return Plan(f'Sandbox got the tool result: "{result}"')
    if tools and choice != "none":
        fn = tools[0]["function"]
        if isinstance(choice, dict):
            wanted = (choice.get("function") or {}).get("name")
            fn = next((t["function"] for t in tools if t["function"].get("name") == wanted), fn)
        args = example(fn.get("parameters") or {"type": "object"}, user_text) or {}
        call_id = "call_" + _digest(messages, fn.get("name"))[:24]
        call = {"id": call_id, "type": "function",
                "function": {"name": fn.get("name"), "arguments": json.dumps(args, ensure_ascii=False)}}
        return Plan(None, [call], "tool_calls")
    fmt = body.get("response_format")
    fmt_type = fmt.get("type") if isinstance(fmt, Mapping) else None
    if fmt_type == "json_object":
        return Plan(json.dumps({"reply": user_text}, ensure_ascii=False))
    if fmt_type == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
        return Plan(json.dumps(example(schema, user_text), ensure_ascii=False))
    reply = f'Sandbox reply: you said "{user_text}"'
    if images:
        reply += f" and attached {images} image{'s' if images != 1 else ''}"
    return Plan(reply + ".")


def _limit(p: Plan, body: Mapping[str, Any]) -> Plan:
    if p.content is None:
        return p
    content, finish = p.content, p.finish
    stop = body.get("stop")
    for seq in [stop] if isinstance(stop, str) else (stop or []):
        if isinstance(seq, str) and seq and seq in content:
            content = content[: content.index(seq)]
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(limit, int) and words(content) > limit:
        content, finish = " ".join(_WORD.findall(content)[:limit]), "length"
    return Plan(content, p.tool_calls, finish)


def prompt_tokens(body: Mapping[str, Any]) -> int:
    total = 0
    for msg in body["messages"]:
        text, images = _text_of(msg.get("content"))
        total += 4 + words(text) + 85 * images
    return total


def completion_tokens(p: Plan) -> int:
    if p.tool_calls:
        return sum(words(c["function"]["arguments"].replace(",", " ")) + 1 for c in p.tool_calls)
    return words(p.content or "")


def answer(body: Mapping[str, Any]) -> tuple[Plan, Usage]:
    p = _limit(plan(body), body)
    return p, Usage(prompt_tokens=prompt_tokens(body), completion_tokens=completion_tokens(p))


def _completion(body: Mapping[str, Any], created: int) -> bytes:
    p, usage = answer(body)
    message: dict[str, Any] = {"role": "assistant", "content": p.content, "refusal": None}
    if p.tool_calls:
        message["tool_calls"] = p.tool_calls
    n = body.get("n") or 1
    return dump_json({
        "id": "chatcmpl-sandbox-" + _digest(body["messages"])[:20],
        "object": "chat.completion",
        "created": created,
        "model": body.get("model") or MODELS[0],
        "choices": [{"index": i, "message": message, "logprobs": None, "finish_reason": p.finish} for i in range(n)],
        "usage": usage.to_openai(),
    })


def _stream(body: Mapping[str, Any], created: int) -> bytes:
    p, usage = answer(body)
    head = {"id": "chatcmpl-sandbox-" + _digest(body["messages"])[:20], "object": "chat.completion.chunk",
            "created": created, "model": body.get("model") or MODELS[0]}
    n = body.get("n") or 1

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return encode_json({**head, "choices": [
            {"index": i, "delta": delta, "logprobs": None, "finish_reason": finish} for i in range(n)]})

    frames = [chunk({"role": "assistant", "content": ""})]
    if p.content:
        pieces = re.findall(r"\S+\s*", p.content)
        for i in range(0, len(pieces), 3):
            frames.append(chunk({"content": "".join(pieces[i:i + 3])}))
    for index, call in enumerate(p.tool_calls):
        args = call["function"]["arguments"]
        half = len(args) // 2
        frames.append(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                             "function": {"name": call["function"]["name"], "arguments": ""}}]}))
        for part in (args[:half], args[half:]):
            if part:
                frames.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
    frames.append(chunk({}, p.finish))
    if (body.get("stream_options") or {}).get("include_usage"):
        frames.append(encode_json({**head, "choices": [], "usage": usage.to_openai()}))
    frames.append(DONE_FRAME)
    return b"".join(frames)


EMBED_DIMENSIONS = 16  # the sandbox's vector size when `dimensions` is not given
# The sandbox model's largest vector, as a real model has one. It computes on the event loop:
# 2048 inputs of 3072 dimensions took ~20 s there, with every other request waiting.
MAX_EMBED_DIMENSIONS = 256


def embed_text(item: Any, dimensions: int) -> list[float]:
    """A deterministic unit vector for one input (a string or token ids), from SHA-256 of it:
    equal inputs give equal vectors, so apps and benches can test search end to end."""
    seed = json.dumps(item).encode()
    raw = b""
    counter = 0
    while len(raw) < dimensions * 2:
        raw += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    values = [int.from_bytes(raw[i * 2:i * 2 + 2], "big") / 32767.5 - 1.0 for i in range(dimensions)]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [round(v / norm, 6) for v in values]


def _embeddings(body: Mapping[str, Any]) -> LocalAnswer:
    items = body.get("input")
    if isinstance(items, str) or (isinstance(items, list) and items and isinstance(items[0], int)):
        items = [items]
    dims = body.get("dimensions") or EMBED_DIMENSIONS
    if dims > MAX_EMBED_DIMENSIONS:
        return LocalAnswer(400, dump_json({"error": {
            "message": f"sandbox-embed-1 makes vectors of at most {MAX_EMBED_DIMENSIONS} dimensions; "
                       f"`dimensions` was {dims}.",
            "type": "invalid_request_error", "code": None, "param": "dimensions"}}), _JSON)
    data, tokens = [], 0
    for i, item in enumerate(items):
        vector = embed_text(item, dims)
        tokens += words(item) if isinstance(item, str) else len(item)
        data.append({"object": "embedding", "index": i, "embedding": vector})
    answer = {"object": "list", "data": data, "model": body.get("model") or "sandbox-embed-1",
              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
    return LocalAnswer(200, dump_json(answer), _JSON)


class SandboxUpstream:
    """Answers the sandbox adapter's requests in-process, as an OpenAI server would."""

    def answer(self, req: UpstreamRequest, *, created: int) -> LocalAnswer:
        if req.method == "GET":  # the model list
            models = [{"id": m, "object": "model", "created": 0, "owned_by": "infer0"} for m in MODELS]
            return LocalAnswer(200, dump_json({"object": "list", "data": models}), _JSON)
        body = json.loads(req.body or b"{}")
        if req.url.endswith("/embeddings"):
            return _embeddings(body)
        if body.get("stream"):
            return LocalAnswer(200, _stream(body, created), _SSE)
        return LocalAnswer(200, _completion(body, created), _JSON)


class SandboxAdapter(OpenAICompatAdapter):
    wire: ClassVar[str] = "sandbox"
    local: ClassVar[LocalUpstream | None] = SandboxUpstream()

    def param_support(self, route: Route) -> ParamSupport:
        return _SUPPORT
