"""OpenAI's `reasoning_effort` for providers that express reasoning differently.

OpenAI (https://platform.openai.com/docs/api-reference/chat/create#reasoning_effort):
`reasoning_effort` is one of "none", "minimal", "low", "medium", "high" ("xhigh" on the
newest models); reasoning tokens count toward `max_completion_tokens`.

* **Anthropic** (extended thinking, Messages API `thinking: {"type": "enabled",
  "budget_tokens": N}`): N >= 1024 and N < `max_tokens`; while thinking, `temperature`
  may only be 1, `top_p` only 0.95..1, `top_k` not at all, and tool use cannot be forced.
  Efforts map to Google's published budgets for the same effort names (1K, 8K, 24K):
  minimal/low 1024, medium 8192, high 24576; "none" turns thinking off. With an app
  `max_tokens` M the budget is capped at M - 1 (OpenAI counts reasoning inside M too);
  without one, `max_tokens` becomes budget + 4096 so the answer keeps room.
  Thinking across tool turns: the OpenAI shape has no place for Anthropic's signed
  thinking blocks, so apps cannot send them back, and Anthropic refuses a tool-loop
  continuation with thinking on whose last assistant turn lacks its thinking block.
  So a request that continues a tool loop (last message a tool result) runs without
  thinking, and says so in `x-infer0-dropped-params`. Thinking text never reaches
  `message.content` (the Anthropic adapter reads only text and tool_use blocks).
* **Gemini** (OpenAI endpoint, https://ai.google.dev/gemini-api/docs/openai): takes
  `reasoning_effort` itself ("low"/"medium"/"high" -> 1K/8K/24K thinking budgets on 2.5,
  "none" turns thinking off where the model allows it). 2.5 Pro cannot stop thinking;
  Gemini 3 knows thinking levels and cannot stop either; "minimal" is not a 2.5 level;
  models before 2.5 do not think. `reasoning_effort` together with
  `extra_body.google.thinking_config` is a 400 at Google: the explicit config wins.
* **levels**: a provider with its own effort names (xAI grok-3-mini: low/high).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from infer0app.gateway.profiles.model import Notes, Profile
from infer0app.gateway.providers.base import GatewayError, gateway_error

EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
ANTHROPIC_BUDGETS: Mapping[str, int] = {"minimal": 1024, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 32000}
ANTHROPIC_MIN_BUDGET = 1024
ANTHROPIC_ANSWER_ROOM = 4096
#: Claude models without extended thinking (it began with Claude 3.7 Sonnet).
_CLAUDE_NO_THINKING = re.compile(r"claude-(instant|2|3-(?!7)|3\.5)")


def effort_of(body: Mapping[str, Any]) -> str | None:
    value = body.get("reasoning_effort")
    return value if isinstance(value, str) else None


def _bad_effort(value: Any) -> GatewayError:
    return gateway_error(
        "invalid_request", f"`reasoning_effort` must be one of: {', '.join(sorted(EFFORTS))} (got {value!r}).",
        param="reasoning_effort",
    )


def apply_reasoning(profile: Profile, model: str, body: dict[str, Any], notes: Notes) -> None:
    """Map `body["reasoning_effort"]` for `profile.reasoning` in place (see module doc)."""
    if "reasoning_effort" not in body:
        return
    mode = profile.reasoning
    if mode == "pass":
        return
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in EFFORTS:
        raise _bad_effort(effort)
    if mode == "drop" or effort is None:
        _drop(body, "reasoning_effort", notes)
    elif mode == "levels":
        _map_level(body, profile.effort_levels, notes)
    elif mode == "anthropic":
        _anthropic_thinking(model, body, notes)
    elif mode == "gemini":
        _gemini_effort(model, body, notes)


def _drop(body: dict[str, Any], key: str, notes: Notes) -> None:
    if key in body:
        del body[key]
        notes.dropped.append(key)


def _map_level(body: dict[str, Any], levels: Mapping[str, str | None], notes: Notes) -> None:
    effort = body["reasoning_effort"]
    mapped = levels.get(effort, effort)
    if mapped is None:
        _drop(body, "reasoning_effort", notes)
    elif mapped != effort:
        body["reasoning_effort"] = mapped
        notes.adjusted.append("reasoning_effort")


def _forces_tool(body: Mapping[str, Any]) -> bool:
    choice = body.get("tool_choice")
    fmt = body.get("response_format")
    json_mode = isinstance(fmt, Mapping) and fmt.get("type") in ("json_object", "json_schema")
    return choice == "required" or isinstance(choice, Mapping) or json_mode


def continues_tool_loop(messages: Any) -> bool:
    """The request answers tool results (its last message is a `tool`/`function` one)."""
    if not isinstance(messages, list) or not messages:
        return False
    last = messages[-1]
    return isinstance(last, Mapping) and last.get("role") in ("tool", "function")


def _anthropic_thinking(model: str, body: dict[str, Any], notes: Notes) -> None:
    effort = body.pop("reasoning_effort")
    if effort == "none":
        return  # thinking is off unless asked for: same meaning, nothing to report
    if _CLAUDE_NO_THINKING.match(model.lower()) or _forces_tool(body) or continues_tool_loop(body.get("messages")):
        notes.dropped.append("reasoning_effort")
        return
    budget = ANTHROPIC_BUDGETS[effort]
    key = "max_completion_tokens" if body.get("max_completion_tokens") else "max_tokens"
    limit = body.get(key)
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        if limit <= ANTHROPIC_MIN_BUDGET:
            notes.dropped.append("reasoning_effort")  # no room for the minimum budget
            return
        budget = min(budget, limit - 1)
    else:
        body["max_tokens"] = budget + ANTHROPIC_ANSWER_ROOM
    body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    notes.renamed.append("reasoning_effort->thinking")
    temperature = body.get("temperature")
    if temperature is not None:
        del body["temperature"]
        if temperature != 1:
            notes.dropped.append("temperature")
    top_p = body.get("top_p")
    if isinstance(top_p, (int, float)) and top_p < 0.95:
        del body["top_p"]
        notes.dropped.append("top_p")
    _drop(body, "top_k", notes)


_GEMINI_PRE_THINKING = re.compile(r"(gemini-(1\.|2\.0)|gemma)")
_GEMINI_3 = re.compile(r"gemini-(\d+)")


def _gemini_effort(model: str, body: dict[str, Any], notes: Notes) -> None:
    extra = body.get("extra_body")
    google = extra.get("google") if isinstance(extra, Mapping) else None
    if isinstance(google, Mapping) and google.get("thinking_config"):
        _drop(body, "reasoning_effort", notes)
        return
    name = model.lower().removeprefix("models/")
    effort = body["reasoning_effort"]
    if _GEMINI_PRE_THINKING.match(name):
        _drop(body, "reasoning_effort", notes)
        return
    major = _GEMINI_3.match(name)
    if major and int(major[1]) >= 3:
        flash = "flash" in name
        levels: dict[str, str | None] = {"none": "minimal" if flash else "low", "minimal": "minimal" if flash else "low",
                                         "medium": "medium" if flash else "high", "xhigh": "high"}
    elif "pro" in name:
        levels = {"none": None, "minimal": "low", "xhigh": "high"}
    else:
        levels = {"minimal": "low", "xhigh": "high"}
    if effort in levels:
        _map_level(body, levels, notes)
