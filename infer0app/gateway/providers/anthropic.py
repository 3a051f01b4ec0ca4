"""Anthropic Messages API (`POST {base}/v1/messages`), translated both ways.

Request (OpenAI -> Anthropic):

* `system` and `developer` messages, wherever they appear, are joined into `system`.
* user text and image parts become content blocks; an image data URL becomes a base64
  source, an http(s) URL a url source. Empty and whitespace-only text (parts, messages,
  tool results) is left out: Anthropic rejects "text content blocks must contain
  non-whitespace text". Audio and file parts are refused with a 400.
* a conversation ending with an assistant message (a prefill) has that message's trailing
  whitespace removed: Anthropic rejects "final assistant content cannot end with trailing
  whitespace". A conversation with no text or tool turn left is a 400 naming `messages`.
* assistant `tool_calls` become `tool_use` blocks (`arguments` JSON string -> `input`
  object; empty or missing arguments -> `{}`); `tool` messages become `tool_result`
  blocks, and consecutive ones (plus any user text right after them) are merged into one
  user turn, so tool results sit directly after their `tool_use` and roles alternate.
  Tool-call ids arrive already in Anthropic's `[A-Za-z0-9_-]` alphabet (the profile
  rewrites them, the same way on both sides). A history with tool calls but no `tools` gets minimal tool definitions and
  `tool_choice: none` (Anthropic requires tools to be defined when the history uses them).
* `tool_choice`: auto -> auto, required -> any, a named function -> tool, none -> none;
  `parallel_tool_calls: false` -> `disable_parallel_tool_use: true`.
* `max_tokens` is always sent: `max_completion_tokens`, else `max_tokens`, else
  `route.options["default_max_tokens"]` (4096). `stop` -> `stop_sequences`;
  `user` -> `metadata.user_id`; `thinking` (made from `reasoning_effort` by the profile)
  passes through.
* Anthropic's input rules live in its profile (`gateway.profiles.table`), applied before
  this adapter runs: fields it has no counterpart for (`frequency_penalty`, `seed`,
  `logit_bias`, ...) are dropped and reported, `temperature` is clamped to 0..1, stop
  sequences without a non-whitespace character are removed, `image/jpg` becomes
  `image/jpeg`, tool-call ids are fitted. Rejected: `n` > 1, `logprobs`.

JSON mode. Anthropic has no `response_format`. infer0 uses the strategy Anthropic
documents for JSON output with tools: a synthetic tool `infer0_json_response` whose
`input_schema` is the requested JSON schema (or any object for `json_object`) and a
`tool_choice` forcing it. Claude's tool input is then valid JSON matching the schema; it
is returned to the app as the message `content` (a JSON string) with finish_reason
`stop`, streamed as content deltas. Limits, rejected with a clear 400: a schema whose
top level is not an object (tool inputs are objects), and `response_format` combined
with the app's own `tools` (the forced tool would make them uncallable).

Response: text blocks -> `content`, `tool_use` -> `tool_calls` (input -> JSON string,
`{}` for no input); `thinking` and `redacted_thinking` blocks are never exposed (not in
`content`, not anywhere else: the OpenAI shape has no place for their signatures). stop_reason: end_turn and
stop_sequence -> stop, max_tokens and model_context_window_exceeded -> length, tool_use
-> tool_calls, refusal -> content_filter, pause_turn -> stop; an unknown one is logged
and mapped to stop. Usage: prompt_tokens = input + cache read + cache creation tokens,
cached_tokens = cache read. The stream mapping is in `anthropic_stream.py`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from infer0app.gateway.providers.anthropic_stream import AnthropicTranslator, error_category, finish_reason, usage_of
from infer0app.gateway.providers.embeddings_wire import not_supported as embeddings_not_supported
from infer0app.gateway.providers.base import (
    CAPABILITIES,
    GatewayError,
    LocalUpstream,
    ParamSupport,
    ParsedResponse,
    Route,
    UpstreamFailure,
    UpstreamRequest,
    category_for_status,
    dump_json,
    gateway_error,
    load_json,
    read_json,
)

log = logging.getLogger(__name__)

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
JSON_TOOL = "infer0_json_response"
_SUPPORT = ParamSupport(capabilities=CAPABILITIES - {"n", "logprobs"})
_DATA_URL = re.compile(r"^data:(image/[A-Za-z0-9.+-]+);base64,(.*)$", re.S)


def _bad(message: str, param: str) -> GatewayError:
    return gateway_error("invalid_request", message, param=param)


def _text(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") in ("text", "refusal"):
                parts.append(str(part.get("text") or part.get("refusal") or ""))
            else:
                raise _bad(f"{where} may only contain text parts for Anthropic.", where)
        return "".join(parts)
    raise _bad(f"{where} must be a string or an array of content parts.", where)


def _image_block(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    ref = part.get("image_url")
    url = ref.get("url") if isinstance(ref, Mapping) else ref
    if not isinstance(url, str):
        raise _bad(f"{where}.image_url.url must be a string.", where)
    match = _DATA_URL.match(url)
    if match:
        return {"type": "image", "source": {"type": "base64", "media_type": match[1], "data": match[2]}}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise _bad(f"{where}: an image must be an http(s) URL or a base64 data URL.", where)


def _has_text(text: str) -> bool:
    """Anthropic takes a text block only when it holds a non-whitespace character."""
    return bool(text) and not text.isspace()


def _user_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if _has_text(content) else []
    if not isinstance(content, list):
        raise _bad(f"{where} must be a string or an array of content parts.", where)
    blocks = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if _has_text(str(part.get("text") or "")):
                blocks.append({"type": "text", "text": str(part["text"])})
        elif kind == "image_url":
            blocks.append(_image_block(part, f"{where}[{j}]"))
        else:
            raise _bad(f"{where}[{j}]: content part type {kind!r} is not supported by Anthropic.", where)
    return blocks


def _assistant_blocks(msg: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    text = _text(msg.get("content"), f"{where}.content")
    if _has_text(text):
        blocks.append({"type": "text", "text": text})
    for j, call in enumerate(msg.get("tool_calls") or []):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not fn.get("name"):
            raise _bad(f"{where}.tool_calls[{j}] needs a function name.", f"{where}.tool_calls")
        args = fn.get("arguments")
        try:
            data = read_json(args) if isinstance(args, str) and args.strip() else (args or {})
        except ValueError:
            raise _bad(f"{where}.tool_calls[{j}].function.arguments is not valid JSON.", f"{where}.tool_calls") from None
        if not isinstance(data, dict):
            raise _bad(f"{where}.tool_calls[{j}].function.arguments must be a JSON object.", f"{where}.tool_calls")
        blocks.append({"type": "tool_use", "id": str(call.get("id") or f"toolu_{j}"), "name": fn["name"], "input": data})
    return blocks


def _tool_result(msg: Mapping[str, Any], where: str) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": str(msg.get("tool_call_id") or "toolu_0")}
    content = msg.get("content")
    if isinstance(content, list):
        texts = [{"type": "text", "text": t} for t in (_text([p], where) for p in content) if _has_text(t)]
        if texts:
            block["content"] = texts
    elif content and _has_text(str(content)):
        block["content"] = str(content)
    return block


def _tools(tools: Any) -> list[dict[str, Any]]:
    out = []
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) and tool.get("type", "function") == "function" else None
        if not isinstance(fn, dict) or not fn.get("name"):
            raise _bad(f"tools[{i}] must be a function tool with a name.", "tools")
        entry: dict[str, Any] = {"name": fn["name"], "input_schema": fn.get("parameters") or {"type": "object", "properties": {}}}
        if fn.get("description"):
            entry["description"] = fn["description"]
        out.append(entry)
    return out


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None:
        mapped = {"type": "auto"} if parallel is False else None
    elif choice == "auto":
        mapped = {"type": "auto"}
    elif choice == "required":
        mapped = {"type": "any"}
    elif choice == "none":
        return {"type": "none"}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict) and choice["function"].get("name"):
        mapped = {"type": "tool", "name": choice["function"]["name"]}
    else:
        raise _bad("tool_choice must be 'auto', 'required', 'none' or a named function.", "tool_choice")
    if mapped is not None and parallel is False:
        mapped["disable_parallel_tool_use"] = True
    return mapped


def _json_tool(fmt: Mapping[str, Any]) -> dict[str, Any]:
    if fmt.get("type") == "json_object":
        return {"name": JSON_TOOL, "description": "Respond with a JSON object.", "input_schema": {"type": "object"}}
    spec = fmt.get("json_schema") if isinstance(fmt.get("json_schema"), dict) else {}
    schema = spec.get("schema")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise _bad(
            "Through Anthropic, response_format json_schema needs a schema whose top level is an object.",
            "response_format",
        )
    desc = spec.get("description") or f"Respond with JSON matching the {spec.get('name', 'requested')} schema."
    return {"name": JSON_TOOL, "description": desc, "input_schema": schema}


def build_body(route: Route, body: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
    system: list[str] = []
    turns: list[dict[str, Any]] = []

    def push(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": list(blocks)})

    for i, msg in enumerate(body["messages"]):
        role, where = msg.get("role"), f"messages[{i}]"
        if role in ("system", "developer"):
            text = _text(msg.get("content"), f"{where}.content")
            if _has_text(text):
                system.append(text)
        elif role == "user":
            push("user", _user_blocks(msg.get("content"), f"{where}.content"))
        elif role == "assistant":
            push("assistant", _assistant_blocks(msg, where))
        else:  # tool / legacy function
            push("user", [_tool_result(msg, where)])

    if not turns:
        raise _bad("Anthropic needs at least one user or assistant message with non-whitespace text.", "messages")
    last = turns[-1]["content"][-1]
    if turns[-1]["role"] == "assistant" and last["type"] == "text":  # a prefill
        last["text"] = last["text"].rstrip()
    out: dict[str, Any] = {"model": route.model}
    if system:
        out["system"] = "\n\n".join(system)
    out["messages"] = turns
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    out["max_tokens"] = int(max_tokens or route.options.get("default_max_tokens") or DEFAULT_MAX_TOKENS)
    stop = body.get("stop")  # already fitted by the profile: non-empty, with non-whitespace
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    for key in ("temperature", "top_p", "thinking"):  # ranges fitted by the profile
        if body.get(key) is not None:
            out[key] = body[key]
    if body.get("user"):
        out["metadata"] = {"user_id": str(body["user"])}

    tools = _tools(body["tools"]) if body.get("tools") else []
    choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls")) if tools else None
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
        if tools:
            raise _bad("Through Anthropic, response_format cannot be combined with tools.", "response_format")
        tools, choice = [_json_tool(fmt)], {"type": "tool", "name": JSON_TOOL}
    if not tools:
        used = [b["name"] for t in turns for b in t["content"] if b["type"] == "tool_use"]
        if used or any(b["type"] == "tool_result" for t in turns for b in t["content"]):
            names = list(dict.fromkeys(used)) or ["tool"]
            tools = [{"name": n, "description": "A tool used earlier in this conversation.",
                      "input_schema": {"type": "object"}} for n in names]
            choice = {"type": "none"}
    if tools:
        out["tools"] = tools
    if choice:
        out["tool_choice"] = choice
    if stream:
        out["stream"] = True
    return out


def headers(route: Route) -> dict[str, str]:
    out = {"content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION}
    if route.api_key:
        out["x-api-key"] = route.api_key
    return out


def api_base(route: Route) -> str:
    return route.base_url.rstrip("/").removesuffix("/v1")


def to_openai(route: Route, msg: Mapping[str, Any], *, created: int) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    json_answer = False
    for block in msg.get("content") or []:
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text", ""))
        elif kind == "tool_use" and block.get("name") == JSON_TOOL:
            texts.append(json.dumps(block.get("input") or {}, ensure_ascii=False))
            json_answer = True
        elif kind == "tool_use":
            args = json.dumps(block.get("input") or {}, ensure_ascii=False)
            calls.append({"id": block.get("id"), "type": "function", "function": {"name": block.get("name"), "arguments": args}})
    stop = msg.get("stop_reason")
    finish = "stop" if json_answer and stop == "tool_use" else finish_reason(stop)
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    model = str(msg.get("model") or route.model)
    out = {
        "id": f"chatcmpl-{msg.get('id', '')}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
    }
    usage = usage_of(msg.get("usage"))
    if usage is not None:
        out["usage"] = usage.to_openai()
    return out


class AnthropicAdapter:
    wire: ClassVar[str] = "anthropic"
    local: ClassVar[LocalUpstream | None] = None

    def param_support(self, route: Route) -> ParamSupport:
        return _SUPPORT

    def build_request(self, route: Route, body: Mapping[str, Any], *, stream: bool,
                      app_json: tuple[Mapping[str, Any], bytes] | None = None) -> UpstreamRequest:
        payload = build_body(route, body, stream=stream)  # a translation: never the app's own bytes
        if stream:
            return UpstreamRequest("POST", api_base(route) + "/v1/messages", {**headers(route), "accept": "text/event-stream"}, dump_json(payload))
        return UpstreamRequest("POST", api_base(route) + "/v1/messages", headers(route), dump_json(payload))

    def parse_response(self, route: Route, raw: bytes, *, created: int) -> ParsedResponse:
        msg = load_json(raw)
        if not isinstance(msg, dict) or msg.get("type") != "message":
            raise ValueError("not an Anthropic message")
        out = to_openai(route, msg, created=created)
        return ParsedResponse(body=dump_json(out), usage=usage_of(msg.get("usage")), model=out["model"])

    def stream_translator(
        self, route: Route, body: Mapping[str, Any], *, include_usage: bool, created: int
    ) -> AnthropicTranslator:
        return AnthropicTranslator(route, include_usage=include_usage, created=created, json_tool=JSON_TOOL)

    def read_error(self, status: int, raw: bytes) -> UpstreamFailure:
        return read_anthropic_error(status, raw)

    def models_request(self, route: Route) -> UpstreamRequest:
        hdrs = {k: v for k, v in headers(route).items() if k != "content-type"}
        return UpstreamRequest("GET", api_base(route) + "/v1/models?limit=1000", hdrs)

    def build_embeddings_request(self, route: Route, req: Any) -> tuple[UpstreamRequest, tuple[str, ...]]:
        raise embeddings_not_supported(route.provider_label)  # Anthropic has no embeddings API

    def parse_embeddings(self, route: Route, raw: bytes, *, encoding_format: str) -> ParsedResponse:
        raise embeddings_not_supported(route.provider_label)

    def parse_models(self, raw: bytes) -> list[str]:
        obj = load_json(raw)
        data = obj.get("data") if isinstance(obj, dict) else None
        if not isinstance(data, list):
            raise ValueError("no model list")
        return [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]


def read_anthropic_error(status: int, raw: bytes) -> UpstreamFailure:
    obj = load_json(raw)
    err = obj.get("error") if isinstance(obj, dict) else None
    kind = err.get("type") if isinstance(err, dict) else None
    message = str(err.get("message") or "") if isinstance(err, dict) else raw[:300].decode("utf-8", "replace").strip()
    return UpstreamFailure(error_category(kind) or category_for_status(status), message)

