"""Fake OpenAI chat-completions servers in three flavours, validating like the real ones.

* `openai`: `POST /v1/chat/completions`, `GET /v1/models`, `Authorization: Bearer`, and
  `POST /v1/responses` (responses_fake.py).
  Wrong key -> 401 `invalid_api_key`; `model` and non-empty `messages` required; a `tool`
  message must answer a pending `tool_call_id` of the preceding assistant turn and every
  tool call must be answered; `json_object` needs the word "json" in the messages;
  image parts must be http(s) or `data:image/...;base64,` URLs. Streams carry
  `"usage": null` on each chunk and a final usage chunk when `include_usage` is set.
* `gemini` (Google's OpenAI-compatible endpoint): `/v1beta/openai/...`; unknown request
  fields -> 400; bad key -> **400** `API_KEY_INVALID`; errors are JSON *lists*; streamed
  tool-call deltas have no `index` and tool-calling turns end with finish_reason "stop";
  gemini-3 models require `extra_content.google.thought_signature` on replayed tool calls;
  model ids are `models/<id>`.
* every flavour serves `POST .../embeddings` (Azure: `/openai/deployments/{deployment}/embeddings`):
  `input` a string, strings, token ids or token-id arrays; `dimensions` (default 8); vectors
  derived from the input (equal inputs, equal vectors); `encoding_format: base64` answered as
  little-endian float32 by `openai` and `azure`, refused by `gemini` (floats only);
  usage `{prompt_tokens, total_tokens}` (words, or token ids).
* `azure`: `/openai/deployments/{deployment}/chat/completions?api-version=...` with an
  `api-key` header; missing api-version -> 404; unknown deployment -> 404
  `DeploymentNotFound`; streams start with a `prompt_filter_results` chunk (no choices).

Model and provider rules real servers enforce (issue 14):

* OpenAI reasoning models (`o1`, `o3-mini`, `o4-mini`, ...; openai and azure flavours):
  `max_tokens` -> 400 `unsupported_parameter` (use `max_completion_tokens`), a
  `temperature` other than 1 -> 400 `unsupported_value`.
* `Knobs.mistral`: Mistral's schema: unknown top-level fields (`stream_options`,
  `max_completion_tokens`, `user`, ...) and role `developer` -> 422 with pydantic's
  `extra_forbidden` / `literal_error` detail; usage on the finish chunk, always.
* `Knobs.usage_on_finish`, `tool_delta_no_index`, `no_finish_reason`: stream shapes other
  OpenAI-compatible servers send (see brain.Knobs).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import struct
from typing import Any

from aiohttp import web

from tests.fakes.brain import Ask, Turn, pieces, think
from tests.fakes.server import STATE, FakeState, write_frames

GEMINI_FIELDS = {
    "messages", "model", "stream", "stream_options", "tools", "tool_choice", "modalities", "n", "stop",
    "max_completion_tokens", "max_tokens", "temperature", "top_p", "response_format", "audio",
    "reasoning_effort", "seed", "presence_penalty", "frequency_penalty", "extra_body", "service_tier",
}
#: Mistral's chat-completions request schema (docs.mistral.ai API reference); anything else is a 422.
MISTRAL_FIELDS = {
    "model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed", "response_format",
    "tools", "tool_choice", "presence_penalty", "frequency_penalty", "n", "prediction", "parallel_tool_calls",
    "safe_prompt", "prompt_mode",
}
_REASONING_MODEL = re.compile(r"o\d")
FLAVOR: web.AppKey[str] = web.AppKey("flavor", str)
ROLES = {"system", "developer", "user", "assistant", "tool"}
_IMAGE_URL = re.compile(r"^(https?://\S+|data:image/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]+)$")


class Reject(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.reason = status, message, param, code, reason


def error_response(flavor: str, err: Reject, headers: dict[str, str] | None = None) -> web.Response:
    if flavor == "gemini":
        status_name = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 404: "NOT_FOUND",
                       429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}.get(err.status, "UNKNOWN")
        inner: dict[str, Any] = {"code": err.status, "message": err.message, "status": status_name}
        if err.reason:
            inner["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": err.reason,
                                 "domain": "googleapis.com"}]
        body: Any = [{"error": inner}]
    elif flavor == "azure":
        body = {"error": {"code": err.code or str(err.status), "message": err.message}}
    else:
        body = {"error": {"message": err.message, "type": "invalid_request_error" if err.status < 500 else "server_error",
                          "param": err.param, "code": err.code}}
    return web.json_response(body, status=err.status, headers=headers)


def check_auth(flavor: str, request: web.Request, state: FakeState) -> None:
    if flavor == "azure":
        if request.headers.get("api-key") != state.key:
            raise Reject(401, "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
                              "provide a valid key for an active subscription and use a correct regional API "
                              "endpoint for your resource.")
        return
    auth = request.headers.get("Authorization", "")
    if auth != f"Bearer {state.key}":
        if flavor == "gemini":
            raise Reject(400, "API key not valid. Please pass a valid API key.", reason="API_KEY_INVALID")
        shown = auth.removeprefix("Bearer ")
        masked = (shown[:3] + "*" * 8 + shown[-4:]) if len(shown) > 8 else "****"
        raise Reject(401, f"Incorrect API key provided: {masked}. You can find your API key at "
                          "https://platform.openai.com/account/api-keys.", code="invalid_api_key")


def check_knobs(flavor: str, state: FakeState) -> web.Response | None:
    status = state.knobs.fail_status
    if status is None:
        return None
    headers = {"retry-after": state.knobs.retry_after} if status == 429 and state.knobs.retry_after else None
    message = {429: "Rate limit reached for requests", 500: "The server had an error while processing your request.",
               503: "The model is overloaded."}.get(status, f"failure {status}")
    if state.knobs.echo_in_errors:
        asked = state.requests[-1].body.decode(errors="replace") if state.requests else ""
        message += f"; could not process: {asked[-400:]}"
    return error_response(flavor, Reject(status, message, code="rate_limit_exceeded" if status == 429 else None), headers)


def mistral_422(kind: str, loc: list[Any], msg: str, value: Any) -> web.Response:
    detail = [{"type": kind, "loc": ["body", *loc], "msg": msg, "input": value}]
    return web.json_response({"object": "error", "message": {"detail": detail}, "type": "invalid_request_error",
                              "param": None, "code": None}, status=422)


def check_provider_rules(flavor: str, body: dict[str, Any], model: str, mistral: bool) -> web.Response | None:
    """What a real provider refuses before it reads the conversation (see the module doc)."""
    if mistral:
        extra = sorted(set(body) - MISTRAL_FIELDS)
        if extra:
            return mistral_422("extra_forbidden", [extra[0]], "Extra inputs are not permitted", body[extra[0]])
        for i, msg in enumerate(body.get("messages") or []):
            if isinstance(msg, dict) and msg.get("role") not in ("system", "user", "assistant", "tool"):
                return mistral_422("literal_error", ["messages", i, "role"],
                                   "Input should be 'system', 'user', 'assistant' or 'tool'", msg.get("role"))
    if flavor in ("openai", "azure") and _REASONING_MODEL.match(model):
        if "max_tokens" in body:
            raise Reject(400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                              "'max_completion_tokens' instead.", param="max_tokens", code="unsupported_parameter")
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1:
            raise Reject(400, f"Unsupported value: 'temperature' does not support {temperature} with this model. "
                              "Only the default (1) value is supported.", param="temperature", code="unsupported_value")
    return None


def parse_ask(flavor: str, body: Any, model: str | None) -> Ask:
    if not isinstance(body, dict):
        raise Reject(400, "We could not parse the JSON body of your request.")
    if flavor == "gemini":
        unknown = sorted(set(body) - GEMINI_FIELDS)
        if unknown:
            raise Reject(400, f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.')
    if flavor != "azure" and not body.get("model"):
        raise Reject(400, "you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise Reject(400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
                          "empty array instead.", param="messages", code="empty_array")
    turns: list[Turn] = []
    pending: list[str] = []
    saw_json_word = False
    for i, msg in enumerate(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in ROLES:
            raise Reject(400, f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                              "'tool', and 'developer'.", param=f"messages[{i}].role", code="invalid_value")
        if pending and role != "tool":
            raise Reject(400, "An assistant message with 'tool_calls' must be followed by tool messages responding "
                              "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                              + ", ".join(pending), param=f"messages.[{i}].role")
        text, images = content_text(msg.get("content"), i)
        saw_json_word = saw_json_word or "json" in text.lower()
        if role == "tool":
            if msg.get("tool_call_id") not in pending:
                raise Reject(400, "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                                  "message with 'tool_calls'.", param=f"messages.[{i}].role")
            pending.remove(msg["tool_call_id"])
            turns.append(Turn("tool", text))
        elif role == "assistant":
            calls = []
            for call in msg.get("tool_calls") or []:
                if flavor == "gemini" and str(model).startswith("gemini-3"):
                    sig = ((call.get("extra_content") or {}).get("google") or {}).get("thought_signature")
                    if not sig:
                        raise Reject(400, "Function call is missing a thought_signature in functionCall parts. "
                                          "This is required for tools to work correctly.")
                fn = call.get("function") or {}
                args = json.loads(fn.get("arguments") or "{}")
                calls.append((call.get("id"), fn.get("name"), args))
                pending.append(call.get("id"))
            turns.append(Turn("assistant", text, calls=calls))
        elif role == "user":
            turns.append(Turn("user", text, images))
    if pending:
        raise Reject(400, "An assistant message with 'tool_calls' must be followed by tool messages responding to "
                          "each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                          + ", ".join(pending), param="messages")
    tools = [(t["function"]["name"], t["function"].get("parameters") or {}) for t in body.get("tools") or []]
    choice = body.get("tool_choice", "auto")
    if isinstance(choice, dict):
        choice = ("named", choice["function"]["name"])
    fmt = body.get("response_format") or {}
    json_mode: Any = None
    if fmt.get("type") == "json_object":
        if flavor != "gemini" and not saw_json_word:
            raise Reject(400, "'messages' must contain the word 'json' in some form, to use 'response_format' of "
                              "type 'json_object'.", param="messages")
        json_mode = "object"
    elif fmt.get("type") == "json_schema":
        json_mode = fmt["json_schema"]["schema"]
    stop = body.get("stop") or []
    return Ask(turns, tools, choice, json_mode, body.get("max_completion_tokens") or body.get("max_tokens"),
               [stop] if isinstance(stop, str) else list(stop), body.get("parallel_tool_calls", True))


def content_text(content: Any, i: int) -> tuple[str, int]:
    if content is None or isinstance(content, str):
        return content or "", 0
    texts, images = [], 0
    for part in content:
        if part.get("type") == "text":
            texts.append(part["text"])
        elif part.get("type") == "image_url":
            url = (part.get("image_url") or {}).get("url", "")
            if not _IMAGE_URL.match(url):
                raise Reject(400, "Invalid image URL: the URL must be a valid http(s) URL or a base64 data URL.",
                             param=f"messages[{i}].content", code="invalid_image_url")
            images += 1
        else:
            raise Reject(400, f"Invalid content part type: {part.get('type')}", param=f"messages[{i}].content")
    return " ".join(texts), images


def answer_model(flavor: str, model: str) -> str:
    return {"openai": f"{model}-2024-07-18", "azure": "gpt-4o-mini-2024-07-18"}.get(flavor, model)


def tool_call_objs(flavor: str, calls: list, model: str) -> list[dict[str, Any]]:
    out = []
    for cid, name, args in calls:
        call: dict[str, Any] = {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        if flavor == "gemini" and model.startswith("gemini-3"):
            call["extra_content"] = {"google": {"thought_signature": f"sig-{cid}"}}
        out.append(call)
    return out


async def chat(request: web.Request) -> web.StreamResponse:
    flavor = request.app[FLAVOR]
    state = request.app[STATE]
    try:
        if flavor == "azure":
            if "api-version" not in request.query:
                raise Reject(404, "Resource not found")
            check_auth(flavor, request, state)
            if request.match_info["deployment"] not in state.deployments:
                raise Reject(404, "The API deployment for this resource does not exist. If you created the deployment "
                                  "within the last 5 minutes, please wait a moment and try again.",
                             code="DeploymentNotFound")
        else:
            check_auth(flavor, request, state)
        failed = check_knobs(flavor, state)
        if failed is not None:
            return failed
        if state.knobs.delay:
            await asyncio.sleep(state.knobs.delay)
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise Reject(400, "We could not parse the JSON body of your request.") from None
        model = body.get("model") if flavor != "azure" else request.match_info["deployment"]
        refused = check_provider_rules(flavor, body, str(model), state.knobs.mistral) if isinstance(body, dict) else None
        if refused is not None:
            return refused
        ask = parse_ask(flavor, body, model)
    except Reject as err:
        return error_response(flavor, err)
    id_prefix = "function-call-" if flavor == "gemini" else "call_"
    reply = think(ask, state.knobs, id_prefix=id_prefix)
    finish = "stop" if reply.finish == "stop_sequence" else reply.finish
    if flavor == "gemini" and finish == "tool_calls":
        finish = "stop"  # Gemini's quirk
    calls = tool_call_objs(flavor, reply.calls, str(model))
    usage = {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
             "total_tokens": reply.prompt_tokens + reply.completion_tokens}
    head = {"id": "chatcmpl-fake0001", "created": 1700000000, "model": answer_model(flavor, str(model))}
    n = body.get("n") or 1
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None}
        if calls:
            message["tool_calls"] = calls
        return web.json_response({**head, "object": "chat.completion", "choices": [
            {"index": i, "message": message, "logprobs": None, "finish_reason": finish} for i in range(n)],
            "usage": usage, "system_fingerprint": "fp_fake"})
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    knobs = state.knobs
    on_finish = knobs.mistral or knobs.usage_on_finish
    return await stream(request, flavor, head, reply.text, calls, finish,
                        usage if include_usage or knobs.mistral else None, usage_on_finish=on_finish)


async def stream(request: web.Request, flavor: str, head: dict[str, Any], text: str | None, calls: list,
                 finish: str, usage: dict[str, Any] | None, *, usage_on_finish: bool = False) -> web.StreamResponse:
    knobs = request.app[STATE].knobs

    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
        obj: dict[str, Any] = {**head, "object": "chat.completion.chunk",
                               "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if usage is not None and flavor == "openai" and not usage_on_finish:
            obj["usage"] = None
        obj.update(extra)
        return b"data: " + json.dumps(obj).encode() + b"\n\n"

    frames: list[bytes] = []
    if flavor == "azure":
        frames.append(b"data: " + json.dumps({"id": "", "object": "", "created": 0, "model": "", "choices": [],
                                              "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}).encode() + b"\n\n")
    frames.append(chunk({"role": "assistant", "content": ""}))
    if text:
        for i, piece in enumerate(pieces(text)):
            frames.append(chunk({"content": piece}))
            if i == 0 and knobs.error_mid_stream:
                frames.append(b'data: {"error": {"message": "The server had an error while processing your request.",'
                              b' "type": "server_error", "param": null, "code": null}}\n\n')
                break
    for index, call in enumerate(calls):
        args = call["function"]["arguments"]
        if flavor == "gemini":  # whole call in one delta, no index
            frames.append(chunk({"tool_calls": [call]}))
            continue
        if knobs.tool_delta_no_index:  # id and name first, then id-less fragments, never an index
            frames.append(chunk({"tool_calls": [{"id": call["id"], "type": "function",
                                                 "function": {"name": call["function"]["name"], "arguments": ""}}]}))
            half = len(args) // 2
            for part in (args[:half], args[half:]):
                frames.append(chunk({"tool_calls": [{"function": {"arguments": part}}]}))
            continue
        first = {"index": index, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"], "arguments": ""}}
        frames.append(chunk({"tool_calls": [first]}))
        half = len(args) // 2
        for part in (args[:half], args[half:]):
            frames.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
    if not knobs.error_mid_stream:
        if usage_on_finish and usage is not None:
            frames.append(chunk({}, None if knobs.no_finish_reason else finish, usage=usage))
        else:
            frames.append(chunk({}, None if knobs.no_finish_reason else finish))
        if usage is not None and not usage_on_finish:
            frames.append(b"data: " + json.dumps({**head, "object": "chat.completion.chunk", "choices": [],
                                                  "usage": usage}).encode() + b"\n\n")
    if not knobs.no_done:
        frames.append(b"data: [DONE]\n\n")
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    return await write_frames(request, resp, frames, delay=knobs.stream_delay)


async def models(request: web.Request) -> web.Response:
    flavor = request.app[FLAVOR]
    state = request.app[STATE]
    try:
        if flavor == "azure" and "api-version" not in request.query:
            raise Reject(404, "Resource not found")
        check_auth(flavor, request, state)
    except Reject as err:
        return error_response(flavor, err)
    failed = check_knobs(flavor, state)
    if failed is not None:
        return failed
    prefix = "models/" if flavor == "gemini" else ""
    return web.json_response({"object": "list", "data": [
        {"id": prefix + m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in state.models]})


def fake_vector(item: Any, dims: int) -> list[float]:
    digest = json.dumps(item).encode()
    return [((b * (i + 7)) % 200) / 100.0 - 1.0 for i, b in enumerate((digest * (dims // len(digest) + 1))[:dims])]


async def embeddings(request: web.Request) -> web.Response:
    flavor = request.app[FLAVOR]
    state = request.app[STATE]
    try:
        if flavor == "azure":
            if "api-version" not in request.query:
                raise Reject(404, "Resource not found")
            check_auth(flavor, request, state)
            if request.match_info["deployment"] not in state.deployments:
                raise Reject(404, "The API deployment for this resource does not exist.", code="DeploymentNotFound")
        else:
            check_auth(flavor, request, state)
        failed = check_knobs(flavor, state)
        if failed is not None:
            return failed
        body = json.loads(await request.read())
        model = request.match_info["deployment"] if flavor == "azure" else body.get("model")
        if not model:
            raise Reject(400, "you must provide a model parameter", param="model")
        items = body.get("input")
        if isinstance(items, str) or (isinstance(items, list) and items and isinstance(items[0], int)):
            items = [items]
        if not isinstance(items, list) or not items or any(i in ("", []) for i in items):
            raise Reject(400, "'input' : input must be a string or an array", param="input")
        fmt = body.get("encoding_format", "float")
        if flavor == "gemini" and fmt != "float":
            raise Reject(400, "encoding_format must be float")
        dims = body.get("dimensions") or 8
    except Reject as err:
        return error_response(flavor, err)
    data = []
    tokens = 0
    for i, item in enumerate(items):
        vector = fake_vector(item, dims)
        tokens += len(item.split()) if isinstance(item, str) else len(item)
        encoded: Any = vector
        if fmt == "base64":
            encoded = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": encoded})
    return web.json_response({"object": "list", "data": data, "model": answer_model(flavor, str(model)),
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def add_routes(app: web.Application, flavor: str) -> None:
    app[FLAVOR] = flavor
    if flavor == "azure":
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", chat)
        app.router.add_get("/openai/models", models)
        app.router.add_post("/openai/deployments/{deployment}/embeddings", embeddings)
    else:
        root = "/v1beta/openai" if flavor == "gemini" else "/v1"
        app.router.add_post(root + "/chat/completions", chat)
        app.router.add_get(root + "/models", models)
        app.router.add_post(root + "/embeddings", embeddings)
        if flavor == "openai":  # the Responses API, for infer0's /v1/responses pass-through
            from tests.fakes.responses_fake import create
            app.router.add_post(root + "/responses", create)
