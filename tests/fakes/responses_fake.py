"""Fake OpenAI Responses API (`POST /v1/responses`) for the pass-through of infer0's /v1/responses.

Validates like the real one: `Authorization: Bearer` (401 `invalid_api_key`), `model` and
`input` required, unknown top-level parameters refused (`Unknown parameter: '...'`), function
tools in the flat Responses shape (`tools[0].name` required), each `function_call_output`
answering an earlier `function_call` of the same `call_id`. Answers from the shared brain:
a `response` object, or with `stream: true` the typed events in OpenAI's order
(response.created ... response.completed), each with `sequence_number`. Every request body is
recorded (`fake.requests`), so tests see what infer0 sent (e.g. `store: false`).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from infer0app.gateway.sse import encode_event
from tests.fakes.brain import Ask, Turn, pieces, think
from tests.fakes.openai_fake import Reject, check_auth, check_knobs, error_response
from tests.fakes.server import STATE, write_frames

FIELDS = {"model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "text", "reasoning",
          "max_output_tokens", "temperature", "top_p", "user", "stream", "store", "metadata", "include",
          "truncation", "service_tier", "previous_response_id", "prompt_cache_key", "background", "top_logprobs"}


def _text(content: Any, i: int) -> tuple[str, int]:
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        raise Reject(400, f"Invalid type for 'input[{i}].content'.", param=f"input[{i}].content")
    texts, images = [], 0
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text"):
            texts.append(part.get("text", ""))
        elif kind == "input_image":
            images += 1
        else:
            raise Reject(400, f"Invalid value: '{kind}'.", param=f"input[{i}].content")
    return " ".join(texts), images


def parse_ask(body: Any) -> Ask:
    if not isinstance(body, dict):
        raise Reject(400, "We could not parse the JSON body of your request.")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise Reject(400, f"Unknown parameter: '{unknown[0]}'.", param=unknown[0], code="unknown_parameter")
    for name in ("model", "input"):
        if not body.get(name):
            raise Reject(400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    items = body["input"]
    items = [{"role": "user", "content": items}] if isinstance(items, str) else items
    turns: list[Turn] = []
    called: set[str] = set()
    for i, item in enumerate(items):
        kind = item.get("type", "message")
        if kind == "message":
            text, images = _text(item.get("content"), i)
            role = item.get("role")
            if role in ("user", "assistant"):
                turns.append(Turn(role, text, images))
        elif kind == "function_call":
            called.add(item["call_id"])
            turns.append(Turn("assistant", "", calls=[(item["call_id"], item["name"], json.loads(item["arguments"]))]))
        elif kind == "function_call_output":
            if item.get("call_id") not in called:
                raise Reject(400, f"No tool call found for function call output with call_id {item.get('call_id')}.",
                             param="input")
            turns.append(Turn("tool", str(item.get("output"))))
        else:
            raise Reject(400, f"Invalid value: '{kind}'.", param=f"input[{i}].type")
    tools = []
    for j, tool in enumerate(body.get("tools") or []):
        if tool.get("type") == "function" and not tool.get("name"):
            raise Reject(400, f"Missing required parameter: 'tools[{j}].name'.", param=f"tools[{j}].name")
        tools.append((tool["name"], tool.get("parameters") or {}))
    choice = body.get("tool_choice", "auto")
    if isinstance(choice, dict):
        choice = ("named", choice["name"])
    fmt = (body.get("text") or {}).get("format") or {}
    json_mode = fmt.get("schema") if fmt.get("type") == "json_schema" else None
    return Ask(turns, tools, choice, json_mode, body.get("max_output_tokens"), [], body.get("parallel_tool_calls", True))


async def create(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        check_auth("openai", request, state)
        failed = check_knobs("openai", state)
        if failed is not None:
            return failed
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise Reject(400, "We could not parse the JSON body of your request.") from None
        ask = parse_ask(body)
    except Reject as err:
        return error_response("openai", err)
    reply = think(ask, state.knobs, id_prefix="call_")
    output: list[dict[str, Any]] = []
    if reply.text is not None:
        output.append({"id": "msg_fake0001", "type": "message", "role": "assistant", "status": "completed",
                       "content": [{"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}]})
    for n, (cid, name, args) in enumerate(reply.calls):
        output.append({"id": f"fc_fake{n:04d}", "type": "function_call", "status": "completed", "call_id": cid,
                       "name": name, "arguments": json.dumps(args)})
    usage = {"input_tokens": reply.prompt_tokens, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": reply.completion_tokens, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": reply.prompt_tokens + reply.completion_tokens}
    status = "incomplete" if reply.finish == "length" else "completed"
    response = {"id": "resp_fake0001", "object": "response", "created_at": 1700000000, "status": status,
                "model": f"{body['model']}-2024-07-18", "output": output, "usage": usage, "error": None,
                "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
                "instructions": body.get("instructions"), "metadata": body.get("metadata") or {},
                "parallel_tool_calls": body.get("parallel_tool_calls", True), "temperature": 1.0, "top_p": 1.0,
                "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools") or [],
                "store": body.get("store", True), "text": {"format": {"type": "text"}}, "truncation": "disabled"}
    if not body.get("stream"):
        return web.json_response(response)
    return await _stream(request, response)


async def _stream(request: web.Request, final: dict[str, Any]) -> web.StreamResponse:
    seq = iter(range(10_000))

    def ev(kind: str, **fields: Any) -> bytes:
        return encode_event(kind, {"type": kind, "sequence_number": next(seq), **fields})

    started = {**final, "status": "in_progress", "output": [], "usage": None}
    frames = [ev("response.created", response=started), ev("response.in_progress", response=started)]
    for index, item in enumerate(final["output"]):
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            text = item["content"][0]["text"]
            frames.append(ev("response.output_item.added", output_index=index,
                             item={**item, "status": "in_progress", "content": []}))
            empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            frames.append(ev("response.content_part.added", **where, content_index=0, part=empty))
            for piece in pieces(text):
                frames.append(ev("response.output_text.delta", **where, content_index=0, delta=piece, logprobs=[]))
            frames.append(ev("response.output_text.done", **where, content_index=0, text=text, logprobs=[]))
            frames.append(ev("response.content_part.done", **where, content_index=0, part=item["content"][0]))
        else:
            args = item["arguments"]
            frames.append(ev("response.output_item.added", output_index=index,
                             item={**item, "status": "in_progress", "arguments": ""}))
            for part in (args[: len(args) // 2], args[len(args) // 2:]):
                frames.append(ev("response.function_call_arguments.delta", **where, delta=part))
            frames.append(ev("response.function_call_arguments.done", **where, arguments=args))
        frames.append(ev("response.output_item.done", output_index=index, item=item))
    frames.append(ev(f"response.{final['status']}", response=final))
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    return await write_frames(request, resp, frames, delay=request.app[STATE].knobs.stream_delay)
