"""Small pieces the inbound translators share: the translated request, ids, usage reading."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infer0app.gateway.providers.base import GatewayError, gateway_error

#: Makes an object id from a prefix ("resp", "msg", "fc", ...). Tests pass a counter.
IdMaker = Callable[[str], str]


def random_id(prefix: str) -> str:
    """`{prefix}_` + 48 hex digits (192 random bits), the length OpenAI's ids have."""
    return f"{prefix}_{secrets.token_hex(24)}"


@dataclass(frozen=True)
class ChatRequest:
    """An inbound request translated to a Chat Completions body.

    `body` goes into the pipeline as an app's chat request would; `dropped` names inbound
    parameters that were accepted but have no effect (for `x-infer0-dropped-params`);
    `stream` is what the app asked for. A streamed `body` asks for
    `stream_options.include_usage`, because both inbound APIs report usage at the end.
    """

    body: dict[str, Any]
    dropped: tuple[str, ...]
    stream: bool


def bad_request(message: str, param: str | None, code: str = "invalid_request") -> GatewayError:
    return gateway_error(code, message, param=param)


def optional_array(value: Any, param: str, message: str) -> list[Any]:
    """An array parameter: [] when absent (null), the array as it is; `GatewayError(400)` with
    `message`, naming `param`, for anything else."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request(message, param)
    return value


MAX_TOKEN_CAP = 2**31 - 1  # the chat validator's bound on max_tokens, named here in each API's own terms


def is_positive_int(value: Any) -> bool:
    """True for an int from 1 to MAX_TOKEN_CAP (not a bool): a token cap."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_TOKEN_CAP


def copy_sampling(body: Mapping[str, Any], out: dict[str, Any], message: str) -> None:
    """Copies `temperature` and `top_p`, when set, from the inbound `body` into the chat body
    `out` (same names and meaning in both APIs). Raises `GatewayError(400)` with `message`
    (`{key}` in it names the parameter) for a value that is not a number (a bool is not)."""
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            if not isinstance(body[key], (int, float)) or isinstance(body[key], bool):
                raise bad_request(message.format(key=key), key)
            out[key] = body[key]


def chat_request(body: Mapping[str, Any], out: dict[str, Any], dropped: set[str],
                 handled: frozenset[str]) -> ChatRequest:
    """The translated request: `stream: true` in `body` adds `stream` and
    `stream_options.include_usage` to the chat body `out` (last, after every other field);
    the non-null `body` keys not in `handled` join `dropped` (listed sorted). A `stream` that is
    not a boolean is a 400, as both APIs answer (`"yes"` was read as a stream here and as no
    stream by the handler, which answered one JSON body)."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise bad_request("`stream` must be true or false.", "stream")
    stream = bool(stream)
    if stream:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    dropped.update(k for k, v in body.items() if k not in handled and v is not None)
    return ChatRequest(body=out, dropped=tuple(sorted(dropped)), stream=stream)


def as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def chat_usage(raw: Any) -> dict[str, int] | None:
    """A Chat Completions `usage` object -> {prompt, completion, cached, reasoning} token
    counts (ints, 0 when absent); None when there is no usage object."""
    if not isinstance(raw, Mapping):
        return None
    prompt_details = raw.get("prompt_tokens_details")
    completion_details = raw.get("completion_tokens_details")
    return {
        "prompt": as_int(raw.get("prompt_tokens")),
        "completion": as_int(raw.get("completion_tokens")),
        "cached": as_int(prompt_details.get("cached_tokens")) if isinstance(prompt_details, Mapping) else 0,
        "reasoning": as_int(completion_details.get("reasoning_tokens")) if isinstance(completion_details, Mapping) else 0,
    }


def first_choice(chat: Mapping[str, Any]) -> Mapping[str, Any]:
    """The first choice of a `chat.completion` or chunk ({} when `choices` is empty)."""
    choices = chat.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        return choices[0]
    return {}
