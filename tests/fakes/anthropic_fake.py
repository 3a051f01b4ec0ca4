"""Fake Anthropic Messages API (`POST /v1/messages`, `GET /v1/models`).

Validates like the real API and answers with its error shape
`{"type": "error", "error": {"type", "message"}, "request_id"}`: `x-api-key` (missing or
wrong -> 401 authentication_error), `anthropic-version` header, required `model` /
`max_tokens` / `messages`, no extra top-level fields (so OpenAI-only params leaking
through fail), temperature 0..1, roles user/assistant only, non-empty content and text
blocks, `tool_result` blocks only directly after the assistant turn holding their
`tool_use` (and every `tool_use` answered there), tool ids matching `^[a-zA-Z0-9_-]+$`,
tools defined whenever the history has tool blocks, valid image sources (base64 media
types only image/jpeg, png, gif, webp: `image/jpg` is a 400), stop sequences that each
contain a non-whitespace character, and extended thinking's rules (`budget_tokens` >= 1024
and < `max_tokens`; `temperature` only 1 and no forced tool use while thinking). With
thinking on, the answer starts with a `thinking` block (streamed as thinking and
signature deltas), as Claude's does.

On purpose stricter than today's API, which merges consecutive same-role turns: roles
must alternate, so infer0's own merging is what gets tested.

Streams follow the documented event flow: message_start, content blocks (start, ping,
deltas, stop), message_delta with stop_reason and usage, message_stop. Knobs add an
`error` event before any content (`error_first`) or after the first delta
(`error_mid_stream`).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

from infer0app.gateway.sse import encode_event
from tests.fakes.brain import Ask, Turn, pieces, think
from tests.fakes.server import STATE, write_frames

FIELDS = {"model", "messages", "max_tokens", "system", "stop_sequences", "temperature", "top_p", "top_k",
          "tools", "tool_choice", "stream", "metadata", "thinking", "service_tier"}
MEDIA_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
STOP = {"stop": "end_turn", "stop_sequence": "stop_sequence", "length": "max_tokens", "tool_calls": "tool_use"}


class Invalid(Exception):
    def __init__(self, message: str, status: int = 400, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.message, self.status, self.kind = message, status, kind


def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"type": "error", "error": {"type": kind, "message": message},
                              "request_id": "req_fake0001"}, status=status, headers=headers)


def check_headers(request: web.Request, key: str) -> None:
    got = request.headers.get("x-api-key")
    if not got:
        raise Invalid("x-api-key header is required", 401, "authentication_error")
    if got != key:
        raise Invalid("invalid x-api-key", 401, "authentication_error")
    if not request.headers.get("anthropic-version"):
        raise Invalid("anthropic-version: header is required")


def check_block(block: Any, where: str) -> None:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":
        if not block.get("text"):
            raise Invalid("messages: text content blocks must be non-empty")
    elif kind == "image":
        src = block.get("source") or {}
        if src.get("type") == "base64":
            if src.get("media_type") not in MEDIA_TYPES:
                raise Invalid(f"{where}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', "
                              "'image/gif' or 'image/webp'")
            if not src.get("data"):
                raise Invalid(f"{where}.source.base64.data: Field required")
        elif src.get("type") == "url":
            if not str(src.get("url", "")).startswith(("http://", "https://")):
                raise Invalid(f"{where}.source.url.url: invalid url")
        else:
            raise Invalid(f"{where}.source: Input tag '{src.get('type')}' found using 'type' does not match any of "
                          "the expected tags: 'base64', 'url'")
    elif kind == "tool_use":
        if not _ID.match(str(block.get("id", ""))):
            raise Invalid(f"{where}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'")
        if not isinstance(block.get("input"), dict):
            raise Invalid(f"{where}.tool_use.input: Input should be a valid dictionary")
    elif kind == "tool_result":
        if not _ID.match(str(block.get("tool_use_id", ""))):
            raise Invalid(f"{where}.tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'")
    else:
        raise Invalid(f"{where}: Input tag '{kind}' found using 'type' does not match any of the expected tags")


THINKING_TEXT = "Let me think about what the user said first."


def thinking_on(body: dict[str, Any]) -> bool:
    thinking = body.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") == "enabled"


def check_thinking(body: dict[str, Any]) -> None:
    if not thinking_on(body):
        return
    budget = body["thinking"].get("budget_tokens")
    if not isinstance(budget, int) or budget < 1024:
        raise Invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
    if budget >= body["max_tokens"]:
        raise Invalid("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation "
                      "at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-"
                      "window-size")
    if body.get("temperature") not in (None, 1):
        raise Invalid("`temperature` may only be set to 1 when thinking is enabled. Please consult our "
                      "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking")
    if (body.get("tool_choice") or {}).get("type") in ("any", "tool"):
        raise Invalid("Thinking may not be enabled when tool_choice forces tool use.")


def parse_ask(body: Any) -> Ask:
    if not isinstance(body, dict):
        raise Invalid("Input should be a valid dictionary")
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            raise Invalid(f"{name}: Field required")
    extra = sorted(set(body) - FIELDS)
    if extra:
        raise Invalid(f"{extra[0]}: Extra inputs are not permitted")
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        raise Invalid("max_tokens: Input should be greater than or equal to 1")
    temp = body.get("temperature")
    if temp is not None and not 0 <= temp <= 1:
        raise Invalid("temperature: Input should be less than or equal to 1")
    for seq in body.get("stop_sequences") or []:
        if not str(seq).strip():
            raise Invalid("stop_sequences: each stop sequence must contain non-whitespace")
    check_thinking(body)
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        raise Invalid("system: Input should be a valid string")
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise Invalid("messages: at least one message is required")
    tools = body.get("tools") or []
    names = [t.get("name") for t in tools]
    turns: list[Turn] = []
    open_ids: list[str] = []
    has_tool_blocks = False
    for i, msg in enumerate(messages):
        role = msg.get("role")
        if role not in ("user", "assistant"):
            if role == "system":
                raise Invalid('messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                              'parameter, not "system" as an input message role.')
            raise Invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if i and messages[i - 1].get("role") == role:
            raise Invalid(f'messages: roles must alternate between "user" and "assistant", but found multiple '
                          f'"{role}" roles in a row')
        content = msg.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}] if content else []
        if not content and not (role == "assistant" and i == len(messages) - 1):
            raise Invalid(f"messages.{i}: all messages must have non-empty content except for the optional final "
                          "assistant message")
        for j, block in enumerate(content):
            check_block(block, f"messages.{i}.content.{j}")
        results = [b["tool_use_id"] for b in content if b["type"] == "tool_result"]
        has_tool_blocks = has_tool_blocks or bool(results) or any(b["type"] == "tool_use" for b in content)
        if open_ids:
            missing = [x for x in open_ids if x not in results]
            if role != "user" or missing:
                raise Invalid(f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately "
                              f"after: {', '.join(missing or open_ids)}. Each `tool_use` block must have a "
                              "corresponding `tool_result` block in the next message.")
        for j, rid in enumerate(results):
            if rid not in open_ids:
                raise Invalid(f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                              f"{rid}. Each `tool_result` block must have a corresponding `tool_use` block in the "
                              "previous message.")
        open_ids = [b["id"] for b in content if b["type"] == "tool_use"]
        text = " ".join(b["text"] for b in content if b["type"] == "text")
        if results:
            tool_text = " ".join(_result_text(b) for b in content if b["type"] == "tool_result")
            turns.append(Turn("tool", tool_text))
            if text:
                turns.append(Turn("user", text))
        else:
            images = sum(1 for b in content if b["type"] == "image")
            calls = [(b["id"], b["name"], b["input"]) for b in content if b["type"] == "tool_use"]
            turns.append(Turn(role, text, images, calls))
    if open_ids:
        raise Invalid(f"messages.{len(messages)}: `tool_use` ids were found without `tool_result` blocks "
                      f"immediately after: {', '.join(open_ids)}.")
    if has_tool_blocks and not tools:
        raise Invalid("Requests which include `tool_use` or `tool_result` blocks must define tools.")
    choice_raw = body.get("tool_choice") or {"type": "auto"}
    kind = choice_raw.get("type")
    if kind not in ("auto", "any", "tool", "none"):
        raise Invalid("tool_choice: Input tag found using 'type' does not match any of the expected tags: "
                      "'auto', 'any', 'tool', 'none'")
    if kind == "tool" and choice_raw.get("name") not in names:
        raise Invalid(f"tool_choice.name: tool {choice_raw.get('name')!r} not found in tools")
    choice: Any = ("named", choice_raw["name"]) if kind == "tool" else ("none" if kind == "none" else "auto")
    return Ask(turns, [(t["name"], t.get("input_schema") or {}) for t in tools], choice, None,
               body["max_tokens"], list(body.get("stop_sequences") or []),
               not choice_raw.get("disable_parallel_tool_use", False))


def _result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return " ".join(b.get("text", "") for b in content)
    return str(content or "")


async def messages(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        check_headers(request, state.key)
        if state.knobs.fail_status:
            status = state.knobs.fail_status
            kind = {429: "rate_limit_error", 529: "overloaded_error", 400: "invalid_request_error",
                    403: "permission_error", 404: "not_found_error"}.get(status, "api_error")
            headers = {"retry-after": state.knobs.retry_after} if status == 429 and state.knobs.retry_after else None
            return error(status, kind, {429: "Number of request tokens has exceeded your per-minute rate limit",
                                        529: "Overloaded"}.get(status, "Internal server error"), headers)
        if state.knobs.delay:
            await asyncio.sleep(state.knobs.delay)
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise Invalid("There was an issue with the format of your request: invalid JSON") from None
        ask = parse_ask(body)
    except Invalid as err:
        return error(err.status, err.kind, err.message)
    reply = think(ask, state.knobs, id_prefix="toolu_fake")
    content: list[dict[str, Any]] = []
    if thinking_on(body):
        content.append({"type": "thinking", "thinking": THINKING_TEXT, "signature": "c2lnbmF0dXJl"})
    if reply.text:
        content.append({"type": "text", "text": reply.text})
    content += [{"type": "tool_use", "id": cid, "name": name, "input": args} for cid, name, args in reply.calls]
    usage = {"input_tokens": reply.prompt_tokens, "output_tokens": reply.completion_tokens,
             "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    msg = {"id": "msg_fake0001", "type": "message", "role": "assistant", "model": body["model"], "content": content,
           "stop_reason": STOP[reply.finish], "stop_sequence": reply.stop_sequence, "usage": usage}
    if not body.get("stream"):
        return web.json_response(msg)
    return await stream(request, msg)


async def stream(request: web.Request, msg: dict[str, Any]) -> web.StreamResponse:
    knobs = request.app[STATE].knobs
    start = {**msg, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {**msg["usage"], "output_tokens": 1}}
    frames = [encode_event("message_start", {"type": "message_start", "message": start})]
    overloaded = encode_event("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    if knobs.error_first:
        frames.append(overloaded)
    for index, block in enumerate(msg["content"]):
        if knobs.error_first:
            break
        if block["type"] == "thinking":
            frames.append(encode_event("content_block_start", {"type": "content_block_start", "index": index,
                                                               "content_block": {"type": "thinking", "thinking": ""}}))
            for delta in ({"type": "thinking_delta", "thinking": block["thinking"]},
                          {"type": "signature_delta", "signature": block["signature"]}):
                frames.append(encode_event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                                   "delta": delta}))
        elif block["type"] == "text":
            frames.append(encode_event("content_block_start", {"type": "content_block_start", "index": index,
                                                               "content_block": {"type": "text", "text": ""}}))
            frames.append(encode_event("ping", {"type": "ping"}))
            for k, piece in enumerate(pieces(block["text"])):
                frames.append(encode_event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                                   "delta": {"type": "text_delta", "text": piece}}))
                if k == 0 and knobs.error_mid_stream:
                    frames.append(overloaded)
                    break
            if knobs.error_mid_stream:
                break
        else:
            frames.append(encode_event("content_block_start", {"type": "content_block_start", "index": index,
                                                               "content_block": {**block, "input": {}}}))
            args = json.dumps(block["input"]) if block["input"] else ""
            half = len(args) // 2
            for part in ([args[:half], args[half:]] if args else [""]):
                frames.append(encode_event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                                   "delta": {"type": "input_json_delta", "partial_json": part}}))
        frames.append(encode_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    if not (knobs.error_first or knobs.error_mid_stream):
        frames.append(encode_event("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": msg["stop_reason"], "stop_sequence": msg["stop_sequence"]},
            "usage": {"output_tokens": msg["usage"]["output_tokens"]}}))
        frames.append(encode_event("message_stop", {"type": "message_stop"}))
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    return await write_frames(request, resp, frames, delay=knobs.stream_delay)


async def models(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        check_headers(request, state.key)
    except Invalid as err:
        return error(err.status, err.kind, err.message)
    data = [{"type": "model", "id": m, "display_name": m.replace("-", " ").title(),
             "created_at": "2025-09-29T00:00:00Z"} for m in state.models]
    return web.json_response({"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]})


def add_routes(app: web.Application, kind: str) -> None:
    app.router.add_post("/v1/messages", messages)
    app.router.add_get("/v1/models", models)
