"""Google Gemini, through Google's OpenAI-compatible endpoint.

Decision: infer0 talks to `{base}/chat/completions` with base
`https://generativelanguage.googleapis.com/v1beta/openai` and `Authorization: Bearer
<key>`, not to the native `generateContent` API, because the compatibility endpoint is
maintained by Google and documented on ai.google.dev, covers what infer0 promises
(system/user/assistant/tool messages, image parts as URLs or data URLs, tools and
tool_choice, `response_format` json_object and json_schema, streaming with
`stream_options.include_usage`, `n`), and lets the body and stream bytes pass through
like every other OpenAI-wire provider instead of needing a third full translation.

Differences handled here (everything else is `openai_compat`):

* It rejects unknown fields with 400 "Invalid JSON payload received. Unknown name ...":
  only its documented request fields are forwarded (its profile in
  `gateway.profiles.table`); advisory ones such as `logit_bias`, `user`,
  `parallel_tool_calls` are dropped and reported; `logprobs`, which it does not offer, is
  rejected by the params policy.
* Errors come wrapped in a JSON list (`[{"error": {...}}]`), and an invalid key is a
  **400** with reason `API_KEY_INVALID`, not a 401: classified as an auth failure.
* Streamed tool-call deltas may lack `index` (numbered by `profiles.replies`, as for
  every OpenAI-wire provider) and a tool-calling turn may end with `finish_reason:
  "stop"`: made "tool_calls" (`tool_stop_is_tool_calls`, streamed and not).
* Gemini 3 models reject an assistant tool call without the `thought_signature` they
  returned (`extra_content.google.thought_signature`). Apps that drop it on the round
  trip get Google's documented placeholder `skip_thought_signature_validator`.
* The model list names models `models/<id>`; the prefix is removed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from infer0app.gateway.providers.base import CAPABILITIES, ParamSupport, Route, UpstreamFailure, load_json
from infer0app.gateway.providers.openai_compat import (
    OpenAICompatAdapter,
    PassthroughTranslator,
    openai_error_message,
    parse_openai_models,
    upstream_payload,
)

_SUPPORT = ParamSupport(capabilities=CAPABILITIES - {"logprobs"})
SKIP_SIGNATURE = "skip_thought_signature_validator"


def needs_thought_signature(model: str) -> bool:
    name = model.removeprefix("models/")
    return name.startswith("gemini-") and name[7:8].isdigit() and int(name[7:8]) >= 3


def add_thought_signatures(messages: list[Any]) -> list[Any]:
    out = []
    for msg in messages:
        calls = msg.get("tool_calls") if isinstance(msg, dict) and msg.get("role") == "assistant" else None
        if isinstance(calls, list) and any(_unsigned(c) for c in calls):
            msg = dict(msg)
            msg["tool_calls"] = [_signed(c) if _unsigned(c) else c for c in calls]
        out.append(msg)
    return out


def _unsigned(call: Any) -> bool:
    if not isinstance(call, dict):
        return False
    google = (call.get("extra_content") or {}).get("google") or {}
    return not google.get("thought_signature")


def _signed(call: dict[str, Any]) -> dict[str, Any]:
    extra = dict(call.get("extra_content") or {})
    extra["google"] = {**(extra.get("google") or {}), "thought_signature": SKIP_SIGNATURE}
    return {**call, "extra_content": extra}


class GeminiTranslator(PassthroughTranslator):
    tool_stop_is_tool_calls = True


class GeminiAdapter(OpenAICompatAdapter):
    wire: ClassVar[str] = "gemini"
    translator_class = GeminiTranslator

    def param_support(self, route: Route) -> ParamSupport:
        return _SUPPORT

    def payload(self, route: Route, body: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
        payload = upstream_payload(route, body, stream=stream)
        if needs_thought_signature(route.model) and isinstance(payload.get("messages"), list):
            payload["messages"] = add_thought_signatures(payload["messages"])
        return payload

    def read_error(self, status: int, raw: bytes) -> UpstreamFailure:
        obj = load_json(raw)
        message, _code = openai_error_message(obj)
        if not message:
            message = raw[:300].decode("utf-8", errors="replace").strip()
        failure = super().read_error(status, raw)
        text = json.dumps(obj) if obj is not None else ""
        if "API_KEY_INVALID" in text or "API_KEY_EXPIRED" in text or "PERMISSION_DENIED" in text:
            return UpstreamFailure("auth", message)
        return UpstreamFailure(failure.category, message)

    def parse_models(self, raw: bytes) -> list[str]:
        return [m.removeprefix("models/") for m in parse_openai_models(raw)]
