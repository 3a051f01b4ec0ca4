"""The shape of a chat request, checked once, before any adapter sees it.

`decode_json(raw)` turns the body's bytes into a JSON object, or raises a 400 naming what is
wrong (RFC 8259: UTF-8 only; no NaN/Infinity, no number overflowing to infinity, no
duplicate member names; nesting bounded). `check_chat_request(body)` checks the fields
infer0 reads or forwards against OpenAI's Chat Completions types (`model`, `messages[]`
with their roles, content parts and tool calls, the sampling and token parameters,
`tools`, `tool_choice`, `response_format`, `stream_options`, ...), then walks the whole
body once for nesting deeper than MAX_DEPTH and for lone UTF-16 surrogates (JSON's
`"\\ud800"` decodes, but no provider request can encode it). Every failure is
`gateway_error("invalid_request" | "invalid_json", ..., param=<where>)`: an OpenAI 400
whose `param` names the field, e.g. `messages[0].content[1].text`.

Null is accepted for every optional field (clients send `"stop": null`); fields infer0
does not know pass, subject only to the depth and surrogate walk. Bounds follow OpenAI's
API reference (`n` 1-128, `temperature` 0-2, `top_p` 0-1, penalties -2..2, `logit_bias`
-100..100, `top_logprobs` 0-20, at most 4 `stop` sequences; a `tool` message needs its
`tool_call_id`, an `image_url` part an object with a `url`); token counts are positive 32-bit integers and `seed` a
64-bit one, so no provider is sent a number it cannot hold.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from infer0app.gateway.json_scan import document_decoder
from infer0app.gateway.providers.base import GatewayError, gateway_error

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
TOOL_CHOICE_WORDS = frozenset({"none", "auto", "required"})
RESPONSE_FORMATS = frozenset({"text", "json_object", "json_schema"})
#: OpenAI's Chat Completions reference: `stop` holds "up to 4 sequences".
MAX_STOP = 4
#: JSON nesting allowed in a request. A tool schema nested 30 levels deep fits; the walk and
#: every later `json.dumps` stay far from Python's recursion limit.
MAX_DEPTH = 100
_INT32 = 2**31 - 1
_INT64 = 2**63
_SURROGATE = re.compile("[\ud800-\udfff]")


# -- decoding ---------------------------------------------------------------------------
def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"the member name {dup[:40]!r} appears twice in one object")
    return obj


_DECODER = json.JSONDecoder(parse_float=_finite_float, parse_constant=_no_constant,
                            object_pairs_hook=_unique_members)
_DECODE = document_decoder(_DECODER)  # the same decoder, its C scanner called directly


def decode_json(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object. 400 `invalid_json` (not UTF-8, not JSON, NaN or
    Infinity, a number overflowing to infinity, a duplicate member name, nesting too deep
    for the decoder) or `invalid_request` (valid JSON but not an object)."""
    if not raw.strip():
        raise gateway_error("invalid_json", "The request body is empty: send a JSON object.")
    try:
        text = raw.decode("utf-8")  # RFC 8259 §8.1; any charset parameter is ignored (§11)
    except UnicodeDecodeError as exc:
        raise gateway_error("invalid_json", f"The request body is not UTF-8 (byte {exc.start}).") from None
    try:
        body = _DECODE(text)
    except RecursionError:
        raise gateway_error("invalid_json", f"The request body nests JSON more than {MAX_DEPTH} levels deep.") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError; so are the hooks' refusals
        raise gateway_error("invalid_json", f"The request body is not valid JSON: {str(exc)[:200]}.") from None
    if not isinstance(body, dict):
        raise gateway_error("invalid_request", "The request body must be a JSON object.")
    if "\\u" not in text and text.count("{") + text.count("[") < MAX_DEPTH:
        return ScannedBody(body)
    return body


class ScannedBody(dict):
    """A decoded request body whose text held no `\\u` escape (the only way JSON text read as
    UTF-8 can carry a lone surrogate) and fewer than MAX_DEPTH brackets (so it cannot nest
    deeper): `check_chat_request` skips the walk for it. Two scans of the text in C instead of a
    Python walk over every value, on nearly every call (it is otherwise a plain dict)."""

    __slots__ = ()


# -- checks: each takes (value, param) and raises a 400 naming param -------------------------
def _fail(param: str, should: str) -> GatewayError:
    return gateway_error("invalid_request", f"`{param}` must be {should}.", param=param)


def _string(value: Any, param: str) -> None:
    if not isinstance(value, str):
        raise _fail(param, "a string")


def _name(value: Any, param: str) -> None:
    if not isinstance(value, str) or not value:
        raise _fail(param, "a non-empty string")


def _boolean(value: Any, param: str) -> None:
    if not isinstance(value, bool):
        raise _fail(param, "true or false")


def _object(value: Any, param: str) -> None:
    if not isinstance(value, dict):
        raise _fail(param, "an object")


def _integer(low: int, high: int) -> Callable[[Any, str], None]:
    def check(value: Any, param: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise _fail(param, f"an integer from {low} to {high}")
    return check


def _number(low: float, high: float) -> Callable[[Any, str], None]:
    def check(value: Any, param: str) -> None:
        if (not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)
                or not low <= value <= high):
            raise _fail(param, f"a number from {low:g} to {high:g}")
    return check


def _optional(check: Callable[[Any, str], None], obj: dict, key: str, param: str) -> None:
    value = obj.get(key)
    if value is not None:
        check(value, f"{param}.{key}")


def _stop(value: Any, param: str) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list) or len(value) > MAX_STOP:
        raise _fail(param, f"a string or an array of at most {MAX_STOP} strings")
    for i, item in enumerate(value):
        _string(item, f"{param}[{i}]")


def _logit_bias(value: Any, param: str) -> None:
    _object(value, param)
    bias = _number(-100, 100)
    for token, weight in value.items():
        bias(weight, f"{param}.{token}")


def _stream_options(value: Any, param: str) -> None:
    _object(value, param)
    _optional(_boolean, value, "include_usage", param)


def _function(value: Any, param: str) -> None:
    """A tool's function definition: {name, description?, parameters?, strict?}."""
    _object(value, param)
    _name(value.get("name"), f"{param}.name")
    _optional(_string, value, "description", param)
    _optional(_object, value, "parameters", param)
    _optional(_boolean, value, "strict", param)


def _tools(value: Any, param: str) -> None:
    if not isinstance(value, list):
        raise _fail(param, "an array of tool objects")
    for i, tool in enumerate(value):
        where = f"{param}[{i}]"
        _object(tool, where)
        kind = tool.get("type", "function")
        _string(kind, f"{where}.type")
        if kind == "function":
            _function(tool.get("function"), f"{where}.function")


def _tool_choice(value: Any, param: str) -> None:
    if isinstance(value, str):
        if value not in TOOL_CHOICE_WORDS:
            raise _fail(param, "one of none, auto, required, or an object naming a function")
        return
    _object(value, param)
    kind = value.get("type", "function")
    _string(kind, f"{param}.type")
    if kind == "function":
        fn = value.get("function")
        _object(fn, f"{param}.function")
        _name(fn.get("name"), f"{param}.function.name")


def _response_format(value: Any, param: str) -> None:
    _object(value, param)
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in RESPONSE_FORMATS:
        raise _fail(f"{param}.type", "one of " + ", ".join(sorted(RESPONSE_FORMATS)))
    if kind == "json_schema":
        spec = value.get("json_schema")
        _object(spec, f"{param}.json_schema")
        _optional(_string, spec, "name", f"{param}.json_schema")
        _optional(_object, spec, "schema", f"{param}.json_schema")
        _optional(_boolean, spec, "strict", f"{param}.json_schema")


def _content_part(part: Any, param: str) -> None:
    if not isinstance(part, dict):
        raise _fail(param, "a content part object")
    kind = part.get("type")
    if not isinstance(kind, str):
        raise _fail(f"{param}.type", "a string naming the part's type (text, image_url, ...)")
    if kind in ("text", "refusal"):
        _string(part.get(kind), f"{param}.{kind}")
    elif kind == "image_url":
        ref = part.get("image_url")  # OpenAI: an object {url, detail?}, never a bare string
        if not isinstance(ref, dict):
            raise _fail(f"{param}.image_url", "an object with a `url`")
        _string(ref.get("url"), f"{param}.image_url.url")
        _optional(_string, ref, "detail", f"{param}.image_url")


def _tool_call(call: Any, param: str) -> None:
    _object(call, param)
    _optional(_string, call, "id", param)
    _optional(_string, call, "type", param)
    if call.get("type", "function") == "function":
        fn = call.get("function")
        _object(fn, f"{param}.function")
        _name(fn.get("name"), f"{param}.function.name")
        _optional(_string, fn, "arguments", f"{param}.function")


def _message(msg: Any, param: str) -> None:
    if not isinstance(msg, dict):
        raise _fail(param, "a message object")
    role = msg.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise _fail(f"{param}.role", "one of: " + ", ".join(sorted(ROLES)))
    content = msg.get("content")
    if content is not None and not isinstance(content, str):
        if not isinstance(content, list):
            raise _fail(f"{param}.content", "a string, an array of content parts, or null")
        for j, part in enumerate(content):
            _content_part(part, f"{param}.content[{j}]")
    _optional(_string, msg, "name", param)
    if role == "tool":  # OpenAI: a tool message must name the call it answers
        _string(msg.get("tool_call_id"), f"{param}.tool_call_id")
    else:
        _optional(_string, msg, "tool_call_id", param)
    calls = msg.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise _fail(f"{param}.tool_calls", "an array of tool calls")
        for j, call in enumerate(calls):
            _tool_call(call, f"{param}.tool_calls[{j}]")


def _messages(value: Any, param: str) -> None:
    if not isinstance(value, list) or not value:
        raise gateway_error("invalid_request", "`messages` must be a non-empty array of message objects.",
                            param=param)
    for i, msg in enumerate(value):
        _message(msg, f"{param}[{i}]")


_TOKENS = _integer(1, _INT32)
_PENALTY = _number(-2, 2)
#: The top-level fields infer0 reads or forwards, and their checks (null always passes).
FIELDS: dict[str, Callable[[Any, str], None]] = {
    "model": _string,
    "stream": _boolean,
    "stream_options": _stream_options,
    "n": _integer(1, 128),
    "max_tokens": _TOKENS,
    "max_completion_tokens": _TOKENS,
    "temperature": _number(0, 2),
    "top_p": _number(0, 1),
    "presence_penalty": _PENALTY,
    "frequency_penalty": _PENALTY,
    "seed": _integer(-_INT64, _INT64 - 1),
    "stop": _stop,
    "user": _string,
    "logprobs": _boolean,
    "top_logprobs": _integer(0, 20),
    "logit_bias": _logit_bias,
    "parallel_tool_calls": _boolean,
    "metadata": _object,
    "store": _boolean,
    "reasoning_effort": _string,
    "service_tier": _string,
    "tools": _tools,
    "tool_choice": _tool_choice,
    "response_format": _response_format,
}


def check_chat_request(body: Any) -> None:
    """Raise a 400 naming `param` unless `body` has the shape of a Chat Completions request."""
    if not isinstance(body, dict):
        raise gateway_error("invalid_request", "The request body must be a JSON object.")
    _messages(body.get("messages"), "messages")
    for name, value in body.items():
        check = FIELDS.get(name)
        if check is not None and value is not None:
            check(value, name)
    check_tree(body)  # nothing to walk for a ScannedBody: its text showed it has nothing the walk looks for


# -- the walk: depth and lone surrogates, anywhere in the body --------------------------------
class _Unsendable(Exception):
    """Raised inside the walk; `path` collects the way back out, innermost first."""

    def __init__(self, deep: bool):
        self.deep = deep
        self.path: list[str | int] = []


def _unsendable(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def _walk(value: dict | list, depth: int) -> None:
    """Raise _Unsendable at a lone surrogate or past MAX_DEPTH. Type checks are `type(x) is`
    and strings are checked in place: this runs on every request (about 1 µs per 5 values)."""
    if depth >= MAX_DEPTH:
        raise _Unsendable(deep=True)
    for key, item in value.items() if type(value) is dict else enumerate(value):
        if type(key) is str and _unsendable(key):
            raise _Unsendable(deep=False)  # reported at the object holding the key
        kind = type(item)
        if kind is str:
            if _unsendable(item):
                exc = _Unsendable(deep=False)
                exc.path.append(key)
                raise exc
        elif kind is dict or kind is list:
            try:
                _walk(item, depth + 1)
            except _Unsendable as exc:
                exc.path.append(key)
                raise


def _param_of(path: list[str | int]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def check_tree(body: dict[str, Any]) -> None:
    """400 naming the path (in `body`'s own terms) of a lone surrogate or of nesting past MAX_DEPTH;
    the inbound translators run it on the app's body, so the name is one the app sent. A
    ScannedBody is known to hold neither (its text was read by decode_json): nothing to walk."""
    if body.__class__ is ScannedBody:
        return
    try:
        _walk(body, 0)
    except _Unsendable as exc:
        path = exc.path[::-1]
        if exc.deep:
            param = _param_of(path[:1])
            raise gateway_error("invalid_request", f"`{param}` nests JSON more than {MAX_DEPTH} levels deep.",
                                param=param) from None
        param = _param_of(path)
        raise gateway_error("invalid_request", f"`{param}` holds a lone UTF-16 surrogate (an unpaired \\ud800-"
                            "\\udfff escape): not a Unicode character, so no provider can be sent it.",
                            param=param or None) from None
