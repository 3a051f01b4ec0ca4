"""Request validation and the parameter policy, checked once, centrally.

The app does not choose the provider - the user does - so a request is fitted to the
route instead of failing on differences that do not matter:

* parameters whose loss would silently break the app's contract - `n` > 1, `logprobs` /
  `top_logprobs`, `tools`, image inputs, JSON mode / JSON schema - are rejected with an
  OpenAI-style 400 naming the parameter and the user's provider, when the route lacks
  the capability (data on the adapter, `ParamSupport`; a route may narrow it with
  `route.options["capabilities"]`, e.g. a model without vision);
* then the provider's input rules (`gateway.profiles`: accepted fields, renames, roles,
  ranges, stop sequences, tool-call ids, model families) fit what is left, and report
  what they dropped, renamed or adjusted (`Prepared.changes`, the `x-infer0-*-params`
  response headers);
* the request's `model` is ignored (the user's configured model is used), silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infer0app.gateway.profiles.apply import Changes, apply_request_rules
from infer0app.gateway.providers.base import Adapter, GatewayError, ParamSupport, Route, gateway_error
from infer0app.gateway.request_shape import check_chat_request, decode_json


@dataclass(slots=True)  # built on every call: not frozen (providers/base.py UpstreamRequest)
class Prepared:
    body: dict[str, Any]  # what the adapter builds the upstream request from
    changes: Changes  # what was dropped, renamed or adjusted, for the x-infer0-*-params headers
    stream: bool  # the app asked for stream: true
    include_usage: bool  # the app asked for stream_options.include_usage

    @property
    def dropped(self) -> tuple[str, ...]:
        return self.changes.dropped


#: Chat Completions params that are part of the app's contract (see the module doc), or that
#: `prepare` removes when the route cannot take them.
_CONTRACT_PARAMS = frozenset({"n", "logprobs", "top_logprobs", "tools", "tool_choice", "parallel_tool_calls",
                              "response_format", "stream"})


def parse_body(raw: bytes) -> dict[str, Any]:
    """Decode a request body: a JSON object, or a 400 (see request_shape.decode_json)."""
    return decode_json(raw)


def validate(body: Any) -> None:
    """The whole request's shape, or a 400 naming `param` (see request_shape.check_chat_request)."""
    check_chat_request(body)


def effective_support(route: Route, adapter: Adapter) -> ParamSupport:
    support = adapter.param_support(route)
    narrowed = route.options.get("capabilities") if isinstance(route.options, Mapping) else None
    if narrowed is not None:
        return ParamSupport(capabilities=support.capabilities & frozenset(narrowed))
    return support


def prepare(route: Route, body: Any, adapter: Adapter) -> Prepared:
    """Validate `body` and fit it to `route`: capabilities first, then the provider's
    profile (`profiles.apply_request_rules`, the one place its input rules apply).
    Raises GatewayError(400) on a contract break or a field the provider cannot keep."""
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

    # The contract params below are checked and cleaned only when the body has any of them (one
    # set intersection, in C): most requests carry none, and this block is on every call.
    contract = out.keys() & _CONTRACT_PARAMS
    if contract:
        n = out.get("n")
        if n is not None and n != 1 and "n" not in caps:  # validate() made it an integer in 1..128
            raise reject("n", "`n` > 1 (several choices)")
        if out.get("logprobs") and "logprobs" not in caps:
            raise reject("logprobs", "`logprobs`")
        if out.get("top_logprobs") and "logprobs" not in caps:
            raise reject("top_logprobs", "`top_logprobs`")
        if out.get("tools") and "tools" not in caps:
            raise reject("tools", "Tool calling (`tools`)")
    if "vision" not in caps and _has_images(out["messages"]):
        raise reject("messages", "Image input")
    if contract:
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

    out.pop("model", None)
    api_version = route.options.get("api_version") if isinstance(route.options, Mapping) else None
    out, changes = apply_request_rules(route.kind, route.model, out, api_version=api_version)
    if dropped:
        changes = Changes(tuple(sorted(dropped | set(changes.dropped))), changes.renamed, changes.adjusted)
    so = body.get("stream_options")
    include_usage = bool(isinstance(so, dict) and so.get("include_usage"))
    return Prepared(body=out, changes=changes, stream=bool(body.get("stream")), include_usage=include_usage)


def _has_images(messages: list[Any]) -> bool:
    for msg in messages:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") in ("image_url", "input_image"):
                    return True
    return False
