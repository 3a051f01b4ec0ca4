"""Request validation and the parameter policy, checked once, centrally.

The app does not choose the provider - the user does - so a request is fitted to the
route instead of failing on differences that do not matter:

* **advisory** parameters the provider lacks (penalties, `logit_bias`, `seed` on
  Anthropic, `user` on Gemini, `messages[].name` on Groq, ...) are removed and their names
  returned; the handler lists them in the `x-infer0-dropped-params` response header;
* parameters whose loss would silently break the app's contract - `n` > 1, `logprobs` /
  `top_logprobs`, `tools`, image inputs, JSON mode / JSON schema - are rejected with an
  OpenAI-style 400 naming the parameter and the user's provider;
* the request's `model` is ignored (the user's configured model is used), silently.

Which parameters a route takes is data on the adapter (`ParamSupport`); a route may
narrow its capabilities with `route.options["capabilities"]` (a model without vision).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infer0app.gateway.providers.base import Adapter, GatewayError, ParamSupport, Route, gateway_error

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})

#: Never reported as dropped: handled by infer0 itself or meaningless upstream.
_SILENT = frozenset({"model", "stream", "stream_options"})


@dataclass(frozen=True)
class Prepared:
    body: dict[str, Any]  # what the adapter builds the upstream request from
    dropped: tuple[str, ...]  # advisory params removed, for x-infer0-dropped-params
    stream: bool  # the app asked for stream: true
    include_usage: bool  # the app asked for stream_options.include_usage


def parse_body(raw: bytes) -> dict[str, Any]:
    """Decode a request body; malformed JSON or a non-object -> 400."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise gateway_error("invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise gateway_error("invalid_request", "The request body must be a JSON object.")
    return body


def validate(body: Any) -> None:
    if not isinstance(body, dict):
        raise gateway_error("invalid_request", "The request body must be a JSON object.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise gateway_error(
            "invalid_request", "`messages` must be a non-empty array of message objects.", param="messages"
        )
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ROLES:
            raise gateway_error(
                "invalid_request",
                f"messages[{i}] must be an object whose `role` is one of: " + ", ".join(sorted(ROLES)) + ".",
                param=f"messages[{i}].role",
            )


def effective_support(route: Route, adapter: Adapter) -> ParamSupport:
    support = adapter.param_support(route)
    narrowed = route.options.get("capabilities") if isinstance(route.options, Mapping) else None
    if narrowed is not None:
        return ParamSupport(
            capabilities=support.capabilities & frozenset(narrowed),
            accepted=support.accepted,
            unsupported=support.unsupported,
        )
    return support


def prepare(route: Route, body: Any, adapter: Adapter) -> Prepared:
    """Validate `body` and fit it to `route`. Raises GatewayError(400) on a contract break."""
    validate(body)
    support = effective_support(route, adapter)
    caps = support.capabilities
    out = dict(body)
    dropped: set[str] = set()

    def reject(param: str, what: str) -> GatewayError:
        return gateway_error(
            "unsupported_parameter",
            f"{what} is not supported by the user's provider ({route.provider_label}, model {route.model!r}).",
            param=param,
        )

    n = out.get("n")
    if n is not None and n != 1:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise gateway_error("invalid_request", "`n` must be a positive integer.", param="n")
        if "n" not in caps:
            raise reject("n", "`n` > 1 (several choices)")
    if out.get("logprobs") and "logprobs" not in caps:
        raise reject("logprobs", "`logprobs`")
    if out.get("top_logprobs") and "logprobs" not in caps:
        raise reject("top_logprobs", "`top_logprobs`")
    if out.get("tools") and "tools" not in caps:
        raise reject("tools", "Tool calling (`tools`)")
    if "vision" not in caps and _has_images(out["messages"]):
        raise reject("messages", "Image input")
    fmt = out.get("response_format")
    fmt_type = fmt.get("type") if isinstance(fmt, dict) else None
    if fmt_type == "json_object" and "json" not in caps:
        raise reject("response_format", "JSON mode (`response_format` json_object)")
    if fmt_type == "json_schema" and "json_schema" not in caps:
        raise reject("response_format", "Structured output (`response_format` json_schema)")
    if out.get("stream") and "stream" not in caps:
        raise reject("stream", "Streaming")

    # contract params that are harmless to remove when they ask for nothing
    if "n" not in caps:
        out.pop("n", None)
    if "logprobs" not in caps:
        out.pop("logprobs", None)
        out.pop("top_logprobs", None)
    if "tools" not in caps:
        for key in ("tools", "tool_choice", "parallel_tool_calls"):
            if key in out:
                out.pop(key)
                if key != "tools":
                    dropped.add(key)
    if fmt_type == "text" and "json" not in caps:
        out.pop("response_format", None)

    for key in list(out):
        if key == "messages" or key in _SILENT:
            continue
        if key in support.unsupported or (support.accepted is not None and key not in support.accepted):
            out.pop(key)
            dropped.add(key)

    if "message_names" not in caps and any(_named(m) for m in out["messages"]):
        out["messages"] = [{k: v for k, v in m.items() if k != "name"} if _named(m) else m for m in out["messages"]]
        dropped.add("messages[].name")

    out.pop("model", None)
    so = body.get("stream_options")
    include_usage = bool(isinstance(so, dict) and so.get("include_usage"))
    return Prepared(body=out, dropped=tuple(sorted(dropped)), stream=bool(body.get("stream")), include_usage=include_usage)


def _named(msg: Any) -> bool:
    # a legacy `function` message needs its name: that one is not advisory
    return isinstance(msg, dict) and "name" in msg and msg.get("role") != "function"


def _has_images(messages: list[Any]) -> bool:
    for msg in messages:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") in ("image_url", "input_image"):
                    return True
    return False


def dropped_header(dropped: tuple[str, ...] | list[str]) -> dict[str, str]:
    """The response header naming dropped params ({} when none were dropped)."""
    return {"x-infer0-dropped-params": ", ".join(dropped)} if dropped else {}
