"""Anthropic Messages API inbound (`POST /v1/messages`), translated to Chat Completions.

For apps on the official `anthropic` SDK. An Anthropic connection can take the body as
it is (only `model` replaced); every other provider goes through `to_chat` and back
through `to_message` / `messages_stream.MessagesStream`. This is the reverse of the
outbound adapter `providers/anthropic.py`.

Request (Messages -> Chat Completions), `to_chat(body)`:

* `max_tokens` (required, >= 1) -> `max_tokens`; `system` (a string or text blocks) -> a
  leading `system` message; `stop_sequences` -> `stop`; `temperature`, `top_p` as is;
  `metadata.user_id` -> `user`; `stream: true` -> `stream` + `stream_options.include_usage`.
* `messages`: text blocks -> text parts; `image` blocks (base64 source -> a data URL, url
  source -> the URL) -> `image_url` parts; assistant `tool_use` blocks -> `tool_calls`
  (`input` -> JSON `arguments`); user `tool_result` blocks -> `tool` messages (placed
  before the rest of that user turn; `is_error: true` prefixes the text with "Error: ",
  since Chat Completions has no error flag); assistant `thinking` / `redacted_thinking`
  blocks are dropped (listed), as the provider on the other side cannot verify them.
* `tools` (custom tools with `input_schema`) -> function tools; Anthropic's server tools
  (web search, bash, text editor, code execution, ...) answer a 400 naming the tool.
  `tool_choice` auto -> auto, any -> required, tool -> that function, none -> none;
  `disable_parallel_tool_use: true` -> `parallel_tool_calls: false`.
* dropped and listed: `top_k` (no Chat Completions equivalent), `thinking`,
  `service_tier`, `container`, and other unknown fields.

Response (`chat.completion` -> `message`), `to_message`: text -> one `text` block, each
tool call -> a `tool_use` block (`arguments` JSON -> `input`); finish_reason stop ->
`end_turn`, length -> `max_tokens`, tool_calls -> `tool_use`, content_filter ->
`refusal`; usage -> `input_tokens` (prompt tokens not read from a cache, as Anthropic
counts them), `cache_read_input_tokens`, `output_tokens`.

Errors: raised as `GatewayError`; the handler answers them in Anthropic's shape
`{"type": "error", "error": {"type", "message"}}` (errors/anthropic_errors.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from infer0app.gateway.inbound.common import (
    MAX_TOKEN_CAP,
    ChatRequest,
    IdMaker,
    bad_request,
    chat_request,
    chat_usage,
    copy_sampling,
    first_choice,
    is_positive_int,
    optional_array,
    random_id,
)
from infer0app.gateway.providers.base import read_json
from infer0app.gateway.request_shape import check_tree

log = logging.getLogger(__name__)

_HANDLED = frozenset({
    "model", "max_tokens", "system", "messages", "stop_sequences", "temperature", "top_p", "metadata", "stream",
    "tools", "tool_choice",
})

#: Chat finish_reason -> Anthropic stop_reason.
STOP_REASONS: Mapping[str, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}

def stop_reason(finish_reason: Any) -> str | None:
    if finish_reason is None:
        return None
    return STOP_REASONS.get(str(finish_reason), "end_turn")


def to_chat(body: Mapping[str, Any]) -> ChatRequest:
    """An Anthropic Messages request -> a Chat Completions request (see the module doc).
    Raises `GatewayError(400)` naming the parameter for malformed or unsupported input."""
    if not isinstance(body, Mapping):
        raise bad_request("The request body must be a JSON object.", None)
    check_tree(body)  # before translating: its errors name the app's own fields
    max_tokens = body.get("max_tokens")
    if not is_positive_int(max_tokens):
        raise bad_request(f"max_tokens: an integer from 1 to {MAX_TOKEN_CAP} is required.", "max_tokens")
    dropped: set[str] = set()
    messages: list[dict[str, Any]] = []
    system = _system(body.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    turns = body.get("messages")
    if not isinstance(turns, list) or not turns:
        raise bad_request("messages: a non-empty array of messages is required.", "messages")
    for i, turn in enumerate(turns):
        messages.extend(_turn(turn, f"messages.{i}", dropped))

    out: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens}
    if body.get("model") is not None:
        out["model"] = body["model"]
    stops = body.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise bad_request("stop_sequences: an array of strings is required.", "stop_sequences")
        if stops:
            out["stop"] = list(stops)
    copy_sampling(body, out, "{key}: a number is required.")
    metadata = body.get("metadata")
    if metadata is not None and not (isinstance(metadata, Mapping)
                                     and isinstance(metadata.get("user_id"), (str, type(None)))):
        raise bad_request("metadata: an object whose user_id is a string is required.", "metadata")
    if metadata and metadata.get("user_id"):
        out["user"] = metadata["user_id"]
    tools = _tools(body.get("tools"))
    if tools:
        out["tools"] = tools
    choice = body.get("tool_choice")
    if choice is not None:
        mapped, parallel = _tool_choice(choice)
        if mapped is not None and (tools or mapped == "none"):
            out["tool_choice"] = mapped
        elif mapped is not None and mapped != "auto":
            raise bad_request("tool_choice asks for a tool but `tools` has none.", "tool_choice")
        if parallel is False and tools:
            out["parallel_tool_calls"] = False
    return chat_request(body, out, dropped, _HANDLED)


def _system(value: Any) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, list):
        texts = _block_texts(value, lambda j: bad_request(f"system.{j}: only text blocks are allowed in `system`.",
                                                          f"system.{j}"))
        return "\n\n".join(t for t in texts if t)
    raise bad_request("system: a string or an array of text blocks is required.", "system")


def _block_texts(blocks: list[Any], error: Callable[[int], Exception]) -> list[str]:
    """The `text` of each text block (`{"type": "text", "text": str}`), in order; raises
    `error(j)` for the first block `j` that is not one."""
    texts = []
    for j, block in enumerate(blocks):
        if not (isinstance(block, Mapping) and block.get("type") == "text" and isinstance(block.get("text"), str)):
            raise error(j)
        texts.append(block["text"])
    return texts


def _turn(turn: Any, where: str, dropped: set[str]) -> list[dict[str, Any]]:
    role = turn.get("role") if isinstance(turn, Mapping) else None
    if role not in ("user", "assistant"):
        raise bad_request(f"{where}.role: must be 'user' or 'assistant'.", f"{where}.role")
    content = turn.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise bad_request(f"{where}.content: a string or an array of content blocks is required.", f"{where}.content")
    if role == "assistant":
        return [_assistant(content, where, dropped)]
    results: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        at = f"{where}.content.{j}"
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            parts.append({"type": "text", "text": _string(block, "text", at)})
        elif kind == "image":
            parts.append(_image(block, at))
        elif kind == "tool_result":
            results.append(_tool_result(block, at))
        else:
            raise bad_request(f"{at}: content block type {kind!r} is not supported in a user message "
                              "(text, image and tool_result are).", f"{at}.type")
    out = list(results)
    if parts:
        out.append({"role": "user", "content": parts})
    return out


def _assistant(content: list[Any], where: str, dropped: set[str]) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        at = f"{where}.content.{j}"
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            texts.append(_string(block, "text", at))
        elif kind == "tool_use":
            tool_input = block.get("input", {})
            if not isinstance(tool_input, Mapping):
                raise bad_request(f"{at}.input: an object is required.", f"{at}.input")
            calls.append({"id": _string(block, "id", at, nonempty=True), "type": "function",
                          "function": {"name": _string(block, "name", at, nonempty=True),
                                       "arguments": json.dumps(tool_input, ensure_ascii=False)}})
        elif kind in ("thinking", "redacted_thinking"):
            dropped.add(f"messages[].content[].{kind}")
        else:
            raise bad_request(f"{at}: content block type {kind!r} is not supported in an assistant message "
                              "(text and tool_use are).", f"{at}.type")
    msg: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        msg["tool_calls"] = calls
    return msg


def _string(block: Mapping[str, Any], key: str, at: str, *, nonempty: bool = False) -> str:
    value = block.get(key)
    if not isinstance(value, str) or (nonempty and not value):
        raise bad_request(f"{at}.{key}: a {'non-empty ' if nonempty else ''}string is required.", f"{at}.{key}")
    return value


def _image(block: Mapping[str, Any], at: str) -> dict[str, Any]:
    source = block.get("source")
    kind = source.get("type") if isinstance(source, Mapping) else None
    if kind == "base64":
        media, data = source.get("media_type"), source.get("data")
        if not isinstance(media, str) or not media.startswith("image/") or not isinstance(data, str):
            raise bad_request(f"{at}.source: a base64 image needs `media_type` image/* and `data`.", f"{at}.source")
        return {"type": "image_url", "image_url": {"url": f"data:{media};base64,{data}"}}
    if kind == "url" and isinstance(source.get("url"), str):
        return {"type": "image_url", "image_url": {"url": source["url"]}}
    raise bad_request(f"{at}.source: only base64 and url image sources are supported.", f"{at}.source")


def _tool_result(block: Mapping[str, Any], at: str) -> dict[str, Any]:
    content = block.get("content", "")
    if isinstance(content, list):
        text = "\n".join(_block_texts(content, lambda k: bad_request(
            f"{at}.content.{k}: only text can be passed on as a tool result.", f"{at}.content")))
    elif isinstance(content, str):
        text = content
    else:
        raise bad_request(f"{at}.content: a string or an array of text blocks is required.", f"{at}.content")
    if block.get("is_error"):
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": _string(block, "tool_use_id", at, nonempty=True), "content": text}


def _tools(value: Any) -> list[dict[str, Any]]:
    out = []
    for i, tool in enumerate(optional_array(value, "tools", "tools: an array is required.")):
        if not isinstance(tool, Mapping):
            raise bad_request(f"tools.{i}: an object is required.", f"tools.{i}")
        if tool.get("type") not in (None, "custom") or "input_schema" not in tool:
            raise bad_request(
                f"tools.{i}: Anthropic server tool {tool.get('type') or tool.get('name')!r} is not available "
                "through infer0; only custom tools with an input_schema are.",
                f"tools.{i}",
            )
        if not isinstance(tool["input_schema"], Mapping):
            raise bad_request(f"tools.{i}.input_schema: an object is required.", f"tools.{i}.input_schema")
        fn: dict[str, Any] = {"name": _string(tool, "name", f"tools.{i}", nonempty=True),
                              "parameters": tool["input_schema"]}
        if isinstance(tool.get("description"), str):
            fn["description"] = tool["description"]
        out.append({"type": "function", "function": fn})
    return out


def _tool_choice(choice: Any) -> tuple[Any, bool | None]:
    kind = choice.get("type") if isinstance(choice, Mapping) else None
    parallel = False if isinstance(choice, Mapping) and choice.get("disable_parallel_tool_use") else None
    if kind == "auto":
        return "auto", parallel
    if kind == "any":
        return "required", parallel
    if kind == "none":
        return "none", None
    if kind == "tool" and isinstance(choice.get("name"), str) and choice["name"]:
        return {"type": "function", "function": {"name": choice["name"]}}, parallel
    raise bad_request("tool_choice: type must be auto, any, tool (with a name) or none.", "tool_choice")


def message_usage(raw: Any) -> dict[str, int]:
    """Chat `usage` -> Anthropic `usage` ({} of zeros when absent)."""
    counts = chat_usage(raw) or {"prompt": 0, "completion": 0, "cached": 0}
    return {
        "input_tokens": max(counts["prompt"] - counts["cached"], 0),
        "output_tokens": counts["completion"],
        "cache_read_input_tokens": counts["cached"],
        "cache_creation_input_tokens": 0,
    }


def tool_input(arguments: Any) -> dict[str, Any]:
    """A tool call's JSON `arguments` -> a `tool_use.input` object ({} when empty or not an object)."""
    if isinstance(arguments, Mapping):
        return dict(arguments)
    try:
        value = read_json(arguments) if isinstance(arguments, str) and arguments.strip() else {}
    except ValueError:
        log.warning("a tool call's arguments are not JSON; passed on as {}")
        return {}
    return value if isinstance(value, dict) else {}


def to_message(chat: Mapping[str, Any], *, message_id: str | None = None, new_id: IdMaker = random_id) -> dict[str, Any]:
    """A `chat.completion` body -> an Anthropic `message` object."""
    choice = first_choice(chat)
    message = choice.get("message") if isinstance(choice.get("message"), Mapping) else {}
    content: list[dict[str, Any]] = []
    text = message.get("content")
    if isinstance(text, list):
        text = "".join(p.get("text", "") for p in text if isinstance(p, Mapping))
    text = text or message.get("refusal")
    if text:
        content.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        content.append({"type": "tool_use", "id": str(call.get("id") or new_id("toolu")), "name": str(fn.get("name") or ""),
                        "input": tool_input(fn.get("arguments"))})
    return {
        "id": message_id or new_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": str(chat.get("model") or ""),
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason") or "stop"),
        "stop_sequence": None,
        "usage": message_usage(chat.get("usage")),
    }
