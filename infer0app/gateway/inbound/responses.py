"""OpenAI Responses API (`POST /v1/responses`), stateless, translated to Chat Completions.

Request (Responses -> Chat Completions), `to_chat(body)`:

* `instructions` -> a leading `system` message. `input` as a string -> one user message;
  as items: `message` items (also without `type`; roles user/system/developer/assistant,
  content a string or `input_text` / `input_image` / `input_file` parts; assistant
  `output_text` / `refusal` parts become its text) -> chat messages; `function_call`
  items -> assistant `tool_calls` (consecutive calls, and an assistant message right
  before them, form one assistant turn: parallel calls); `function_call_output` -> a
  `tool` message with `tool_call_id` = `call_id`. `reasoning` items (a previous answer's
  thinking passed back) are skipped and listed as dropped.
* function `tools` (Responses' flat `{type, name, description, parameters, strict}`) ->
  Chat's nested `{type, function: {...}}`; `tool_choice` auto/none/required, a named
  function, and `allowed_tools` (the tool list is narrowed to the allowed ones, the mode
  kept); `parallel_tool_calls` as is.
* `text.format` json_schema / json_object -> `response_format`; `text.verbosity` ->
  `verbosity`; `reasoning.effort` -> `reasoning_effort`; `max_output_tokens` ->
  `max_tokens` (the name every OpenAI-wire provider knows; profiles rename per model);
  `temperature`, `top_p`, `user` as is. `stream: true` also asks for
  `stream_options.include_usage` (the final event carries usage).
* `store`: infer0 keeps no responses. `store: true` (the API's default) and `false` are
  both accepted and nothing is stored, so a later `previous_response_id` gets the 400 below.
  (An OpenAI connection is passed through by api/inbound_api.py with `store: false` forced,
  after the same `check_stateless` refusals: gateway/passthrough.py.)
  `metadata` is echoed in the response, not sent upstream.
* Stateful or hosted features answer a 400 naming the parameter: `previous_response_id`,
  `conversation`, `background: true`, `prompt` (stored templates), built-in tools
  (web_search, file_search, code_interpreter, ...) and tool choices naming them,
  `item_reference` items, `input_image.file_id` / `input_file.file_id` (uploaded files).
* Everything else (`include`, `truncation`, `service_tier`, `prompt_cache_key`,
  `top_logprobs`, ...) is dropped and listed in `ChatRequest.dropped`.

The answer is built by `responses_output.to_response` (a body) and
`responses_stream.ResponsesStream` (typed stream events).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infer0app.gateway.inbound.common import (
    MAX_TOKEN_CAP,
    ChatRequest,
    bad_request,
    chat_request,
    copy_sampling,
    is_positive_int,
    optional_array,
)
from infer0app.gateway.request_shape import check_tree

#: Request keys whose meaning is carried into the chat body or the echoed response.
_HANDLED = frozenset({
    "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "text", "reasoning",
    "max_output_tokens", "temperature", "top_p", "user", "stream", "store", "metadata",
    "previous_response_id", "conversation", "background", "prompt",
})
_ROLES = frozenset({"user", "system", "developer", "assistant"})


def _stateful(param: str, what: str) -> Exception:
    return bad_request(
        f"{what} is not available: infer0's /v1/responses is stateless (it stores no responses, "
        "conversations or files). Send the whole conversation in `input`.",
        param,
        code="unsupported_parameter",
    )


def check_stateless(body: Mapping[str, Any]) -> None:
    """400 (`unsupported_parameter`, param named) for the stateful features infer0 does not keep
    state for; also run before a pass-through to OpenAI, so every connection behaves alike."""
    if not isinstance(body, Mapping):
        raise bad_request("The request body must be a JSON object.", None)
    if body.get("previous_response_id"):
        raise _stateful("previous_response_id", "`previous_response_id`")
    if body.get("conversation"):
        raise _stateful("conversation", "`conversation`")
    if body.get("background"):
        raise _stateful("background", "`background: true`")
    if body.get("prompt"):
        raise _stateful("prompt", "A stored prompt (`prompt`)")


def to_chat(body: Mapping[str, Any]) -> ChatRequest:
    """A Responses create-request body -> a Chat Completions request (see the module doc).

    Raises `GatewayError(400)` (OpenAI error object, `param` named) for malformed input
    and for stateful or hosted features.
    """
    check_stateless(body)
    check_tree(body)  # before translating: its errors name the app's own fields
    messages: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise bad_request("`instructions` must be a string.", "instructions")
    if instructions:
        messages.append({"role": "system", "content": instructions})
    dropped: set[str] = set()
    messages.extend(_messages(body.get("input"), dropped))
    if not any(m["role"] in ("user", "assistant", "tool") for m in messages):
        raise bad_request("`input` must contain at least one message.", "input")

    out: dict[str, Any] = {"messages": messages}
    if body.get("model") is not None:
        out["model"] = body["model"]
    tools = _tools(body.get("tools"))
    choice = _tool_choice(body.get("tool_choice"), tools)
    if isinstance(choice, tuple):  # allowed_tools: (mode, the allowed subset)
        choice, tools = choice
    if tools:
        out["tools"] = tools
        if choice is not None:
            out["tool_choice"] = choice
        if body.get("parallel_tool_calls") is not None:
            out["parallel_tool_calls"] = _boolean(body, "parallel_tool_calls")
    elif choice == "none" or choice is None:
        pass
    else:
        raise bad_request("`tool_choice` asks for a tool but `tools` has none.", "tool_choice")

    text = body.get("text")
    if text is not None:
        if not isinstance(text, Mapping):
            raise bad_request("`text` must be an object.", "text")
        fmt = _response_format(text.get("format"))
        if fmt is not None:
            out["response_format"] = fmt
        if text.get("verbosity") is not None:
            out["verbosity"] = text["verbosity"]
    reasoning = body.get("reasoning")
    if isinstance(reasoning, Mapping) and reasoning.get("effort") is not None:
        out["reasoning_effort"] = reasoning["effort"]
    elif reasoning:
        dropped.add("reasoning")
    if body.get("max_output_tokens") is not None:
        max_out = body["max_output_tokens"]
        if not is_positive_int(max_out):
            raise bad_request(f"`max_output_tokens` must be an integer from 1 to {MAX_TOKEN_CAP}.", "max_output_tokens")
        out["max_tokens"] = max_out
    copy_sampling(body, out, "`{key}` must be a number.")
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise bad_request("`user` must be a string.", "user")
    if user:
        out["user"] = user
    if body.get("store") is not None:
        _boolean(body, "store")
    metadata = body.get("metadata")
    if metadata is not None and not (isinstance(metadata, Mapping) and all(isinstance(v, str) for v in metadata.values())):
        raise bad_request("`metadata` must be an object of string values.", "metadata")
    return chat_request(body, out, dropped, _HANDLED)


def _boolean(body: Mapping[str, Any], key: str) -> bool:
    """`body[key]` when it is a boolean; a 400 naming `key` otherwise (it was quietly ignored)."""
    if not isinstance(body[key], bool):
        raise bad_request(f"`{key}` must be true or false.", key)
    return body[key]


# ---------------------------------------------------------------- input items


def _messages(value: Any, dropped: set[str]) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        raise bad_request("`input` must be a string or an array of input items.", "input")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, Mapping):
            raise bad_request(f"{where} must be an object.", where)
        kind = item.get("type", "message")
        if kind == "message":
            out.append(_message(item, where))
        elif kind == "function_call":
            call = _function_call(item, where)
            last = out[-1] if out else None
            if last is not None and last["role"] == "assistant":  # one assistant turn: parallel calls
                last.setdefault("tool_calls", []).append(call)
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            out.append(_function_output(item, where))
        elif kind == "reasoning":
            dropped.add("input[].reasoning")
        elif kind == "item_reference":
            raise _stateful(f"{where}.type", "An `item_reference` input item")
        else:
            raise bad_request(
                f"{where}: input item type {kind!r} is not supported by infer0 "
                "(use message, function_call and function_call_output items).",
                f"{where}.type",
            )
    return out


def _message(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    role = item.get("role")
    if not isinstance(role, str) or role not in _ROLES:  # an object or array is unhashable: a 500
        raise bad_request(f"{where}.role must be one of: " + ", ".join(sorted(_ROLES)) + ".", f"{where}.role")
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise bad_request(f"{where}.content must be a string or an array of content parts.", f"{where}.content")
    if role == "assistant":
        return {"role": "assistant", "content": "".join(_assistant_text(p, f"{where}.content[{j}]")
                                                         for j, p in enumerate(content))}
    parts = [_input_part(p, f"{where}.content[{j}]") for j, p in enumerate(content)]
    if role in ("system", "developer"):
        if any(p["type"] != "text" for p in parts):
            raise bad_request(f"{where}: a {role} message may only contain text.", f"{where}.content")
        return {"role": role, "content": "".join(p["text"] for p in parts)}
    return {"role": role, "content": parts}


def _assistant_text(part: Any, where: str) -> str:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind in ("output_text", "input_text") and isinstance(part.get("text"), str):
        return part["text"]
    if kind == "refusal" and isinstance(part.get("refusal"), str):
        return part["refusal"]
    raise bad_request(f"{where}: an assistant message may contain output_text and refusal parts.", where)


def _input_part(part: Any, where: str) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind == "input_text":
        if not isinstance(part.get("text"), str):
            raise bad_request(f"{where}.text must be a string.", f"{where}.text")
        return {"type": "text", "text": part["text"]}
    if kind == "input_image":
        if part.get("file_id"):
            raise _stateful(f"{where}.file_id", "An uploaded file (`file_id`)")
        url = part.get("image_url")
        if not isinstance(url, str) or not url:
            raise bad_request(f"{where}.image_url must be an image URL or a data URL.", f"{where}.image_url")
        image: dict[str, Any] = {"url": url}
        if part.get("detail") in ("low", "high", "auto"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file":
        if part.get("file_id"):
            raise _stateful(f"{where}.file_id", "An uploaded file (`file_id`)")
        if not isinstance(part.get("file_data"), str):
            raise bad_request(f"{where}: an input_file needs `file_data` (a base64 data URL).", f"{where}.file_data")
        file: dict[str, Any] = {"file_data": part["file_data"]}
        if isinstance(part.get("filename"), str):
            file["filename"] = part["filename"]
        return {"type": "file", "file": file}
    raise bad_request(f"{where}: content part type {kind!r} is not supported "
                      "(use input_text, input_image or input_file).", f"{where}.type")


def _function_call(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    call_id, name, arguments = item.get("call_id"), item.get("name"), item.get("arguments", "")
    if not isinstance(call_id, str) or not call_id:
        raise bad_request(f"{where}.call_id is required.", f"{where}.call_id")
    if not isinstance(name, str) or not name:
        raise bad_request(f"{where}.name is required.", f"{where}.name")
    if not isinstance(arguments, str):
        raise bad_request(f"{where}.arguments must be a JSON string.", f"{where}.arguments")
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _function_output(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    call_id, output = item.get("call_id"), item.get("output")
    if not isinstance(call_id, str) or not call_id:
        raise bad_request(f"{where}.call_id is required.", f"{where}.call_id")
    if isinstance(output, list):
        texts = []
        for j, part in enumerate(output):
            if not (isinstance(part, Mapping) and part.get("type") == "input_text" and isinstance(part.get("text"), str)):
                raise bad_request(f"{where}.output[{j}]: only input_text parts can be passed on as a tool result.",
                                  f"{where}.output")
            texts.append({"type": "text", "text": part["text"]})
        return {"role": "tool", "tool_call_id": call_id, "content": texts}
    if not isinstance(output, str):
        raise bad_request(f"{where}.output must be a string or an array of input_text parts.", f"{where}.output")
    return {"role": "tool", "tool_call_id": call_id, "content": output}


# ---------------------------------------------------------------- tools and formats


def _tools(value: Any) -> list[dict[str, Any]]:
    out = []
    for i, tool in enumerate(optional_array(value, "tools", "`tools` must be an array.")):
        kind = tool.get("type") if isinstance(tool, Mapping) else None
        if kind != "function":
            raise bad_request(
                f"tools[{i}]: built-in tool {kind!r} is not available through infer0; only function tools are.",
                f"tools[{i}].type",
                code="unsupported_parameter",
            )
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            raise bad_request(f"tools[{i}].name is required.", f"tools[{i}].name")
        if tool.get("parameters") is not None and not isinstance(tool["parameters"], Mapping):
            raise bad_request(f"tools[{i}].parameters must be an object.", f"tools[{i}].parameters")
        fn: dict[str, Any] = {"name": tool["name"]}
        for key in ("description", "parameters", "strict"):
            if tool.get(key) is not None:
                fn[key] = tool[key]
        out.append({"type": "function", "function": fn})
    return out


def _tool_choice(value: Any, tools: list[dict[str, Any]]) -> Any:
    if value is None or value in ("auto", "none", "required"):
        return value
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "function" and isinstance(value.get("name"), str) and value["name"]:
        return {"type": "function", "function": {"name": value["name"]}}
    if kind == "allowed_tools" and value.get("mode") in ("auto", "required") and isinstance(value.get("tools"), list):
        names = {t["name"] for t in value["tools"]
                 if isinstance(t, Mapping) and t.get("type") == "function" and isinstance(t.get("name"), str)}
        if len(names) != len(value["tools"]):
            raise bad_request("tool_choice.tools may only name function tools.", "tool_choice.tools")
        return value["mode"], [t for t in tools if t["function"]["name"] in names]
    raise bad_request("`tool_choice` must be 'auto', 'none', 'required', a function tool choice "
                      "or allowed_tools naming function tools.", "tool_choice", code="unsupported_parameter")


def _response_format(fmt: Any) -> dict[str, Any] | None:
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        if not isinstance(fmt.get("name"), str) or not isinstance(fmt.get("schema"), Mapping):
            raise bad_request("text.format json_schema needs a `name` and a `schema` object.", "text.format")
        spec = {k: fmt[k] for k in ("name", "schema", "description", "strict") if fmt.get(k) is not None}
        return {"type": "json_schema", "json_schema": spec}
    raise bad_request("text.format.type must be text, json_object or json_schema.", "text.format.type")
