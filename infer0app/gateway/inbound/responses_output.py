"""The Responses API `response` object, built from a Chat Completions answer.

`to_response(chat, body)`: text (or a refusal) -> one `message` output item with an
`output_text` (or `refusal`) part; each tool call -> a `function_call` item whose
`call_id` is the tool call's id; finish_reason `length` -> status `incomplete` with
reason `max_output_tokens`, `content_filter` -> incomplete with reason `content_filter`;
usage -> input/output/total tokens with cached and reasoning details. The response
repeats the request's settings (tools, tool_choice, text, instructions, metadata, ...)
as OpenAI's does. The builders here are shared with the stream (`responses_stream.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from infer0app.gateway.inbound.common import IdMaker, as_int, chat_usage, first_choice, random_id

def echo_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The request's settings a `response` object repeats (tools, tool_choice, text, ...)."""
    text = body.get("text") if isinstance(body.get("text"), Mapping) else {}
    return {
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "metadata": dict(body.get("metadata") or {}),
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "temperature": body.get("temperature"),
        "text": {"format": text.get("format") or {"type": "text"}},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": list(body.get("tools") or []),
        "top_p": body.get("top_p"),
        "user": body.get("user"),
    }


def response_object(
    *,
    response_id: str,
    created_at: int,
    model: str,
    echo: Mapping[str, Any],
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    incomplete_reason: str | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Responses API `response` object (the SDK's `Response` model)."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "model": model,
        "output": output,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "truncation": "disabled",
        "usage": usage,
        **echo,
    }


def response_usage(raw: Any) -> dict[str, Any] | None:
    """Chat `usage` -> Responses `usage` (input/output/total tokens and their details)."""
    counts = chat_usage(raw)
    if counts is None:
        return None
    return {
        "input_tokens": counts["prompt"],
        "input_tokens_details": {"cached_tokens": counts["cached"], "cache_write_tokens": 0},
        "output_tokens": counts["completion"],
        "output_tokens_details": {"reasoning_tokens": counts["reasoning"]},
        "total_tokens": counts["prompt"] + counts["completion"],
    }


def finish_status(finish_reason: Any) -> tuple[str, str | None]:
    """Chat `finish_reason` -> (Responses `status`, `incomplete_details.reason`)."""
    if finish_reason == "length":
        return "incomplete", "max_output_tokens"
    if finish_reason == "content_filter":
        return "incomplete", "content_filter"
    return "completed", None


def message_item(item_id: str, text: str | None, refusal: str | None, status: str) -> dict[str, Any]:
    part = ({"type": "refusal", "refusal": refusal} if refusal
            else {"type": "output_text", "text": text or "", "annotations": [], "logprobs": []})
    return {"id": item_id, "type": "message", "role": "assistant", "status": status, "content": [part]}


def function_call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    return {"id": item_id, "type": "function_call", "status": status, "call_id": call_id, "name": name,
            "arguments": arguments}


def to_response(
    chat: Mapping[str, Any],
    body: Mapping[str, Any],
    *,
    response_id: str | None = None,
    new_id: IdMaker = random_id,
) -> dict[str, Any]:
    """A `chat.completion` body -> the Responses `response` object for the request `body`
    (the app's Responses request, whose settings the response repeats). `output_text` is
    not in the JSON: the SDK computes it from the output items."""
    choice = first_choice(chat)
    message = choice.get("message") if isinstance(choice.get("message"), Mapping) else {}
    status, reason = finish_status(choice.get("finish_reason"))
    item_status = "incomplete" if status == "incomplete" else "completed"
    output: list[dict[str, Any]] = []
    content, refusal = message.get("content"), message.get("refusal")
    if isinstance(content, list):  # some providers answer content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    if content or refusal:
        output.append(message_item(new_id("msg"), content, refusal, item_status))
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        output.append(function_call_item(new_id("fc"), str(call.get("id") or new_id("call")), str(fn.get("name") or ""),
                                         _arguments(fn.get("arguments")), "completed"))
    return response_object(
        response_id=response_id or new_id("resp"),
        created_at=as_int(chat.get("created")),
        model=str(chat.get("model") or body.get("model") or ""),
        echo=echo_fields(body),
        status=status,
        output=output,
        usage=response_usage(chat.get("usage")),
        incomplete_reason=reason,
    )


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else {}, ensure_ascii=False)
