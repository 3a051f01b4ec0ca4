"""The one place provider input rules are applied (issue 14 §1, kinds 1 and 2).

    body, changes = apply_request_rules("mistral", "mistral-small-latest", app_body)
    response.headers.update(changes.headers())

`apply_request_rules` is pure: it never mutates `app_body`. It normalises where the
meaning is kept (renames, role `developer` -> `system`, clamped ranges, rewritten
tool-call ids, `image/jpg` -> `image/jpeg`), drops advisory fields the provider refuses
and lists them, and raises `GatewayError(400, code="unsupported_parameter", param=...)`
when a field cannot be kept without breaking what the app asked for.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from infer0app.gateway.profiles.model import Notes, Profile, ToolCallIdRule
from infer0app.gateway.profiles.reasoning import apply_reasoning, effort_of
from infer0app.gateway.profiles.table import resolve
from infer0app.gateway.header_text import header_text
from infer0app.gateway.providers.base import GatewayError, gateway_error

#: Fields infer0 itself handles; never dropped for not being in `accepted`.
_ALWAYS = frozenset({"messages", "model", "stream", "stream_options", "thinking"})
_DATA_URL = re.compile(r"^data:([^;,]+)(;base64)?,", re.I)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

DROPPED_HEADER = "x-infer0-dropped-params"
RENAMED_HEADER = "x-infer0-renamed-params"
ADJUSTED_HEADER = "x-infer0-adjusted-params"


@dataclass(frozen=True)
class Changes:
    """What `apply_request_rules` changed: field names (`dropped`, `adjusted`) and
    "old->new" pairs (`renamed`), each sorted and without repeats."""

    dropped: tuple[str, ...] = ()
    renamed: tuple[str, ...] = ()
    adjusted: tuple[str, ...] = ()

    def headers(self) -> dict[str, str]:
        """Response headers for the app ({} when nothing changed)."""
        if not (self.dropped or self.renamed or self.adjusted):
            return {}
        out = {}
        for name, values in ((DROPPED_HEADER, self.dropped), (RENAMED_HEADER, self.renamed),
                             (ADJUSTED_HEADER, self.adjusted)):
            if values:
                out[name] = ", ".join(map(header_text, values))  # an app may name a param with CR/LF
        return out


NO_CHANGES = Changes()


def unsupported(profile: Profile, model: str, param: str, why: str = "") -> GatewayError:
    return gateway_error(
        "unsupported_parameter",
        f"`{param}` is not supported by the user's provider ({profile.kind}, model {model!r}){why}.",
        param=param,
    )


def reasoning_on(profile: Profile, body: Mapping[str, Any]) -> bool:
    """Whether the model reasons for this request (decides the *_when_reasoning rules)."""
    effort = effort_of(body)
    if effort is None:
        return profile.reasoning_default_on
    return effort != "none"


def apply_request_rules(
    kind: str, model: str, body: Mapping[str, Any], *, api_version: str | None = None
) -> tuple[dict[str, Any], Changes]:
    """Fit an OpenAI Chat Completions body to provider `kind` and `model`.

    `kind` is a `services.provider_kinds` slug; `model` the user's model (Azure: the
    deployment name); `api_version` Azure's. Returns (new body, Changes). Raises
    GatewayError 400 (`unsupported_parameter` naming the field, or `invalid_request`
    for a malformed value) when the request cannot be kept.
    """
    rules = _rules_for(kind, model, api_version)
    profile = rules.profile
    out = dict(body)
    notes = Notes()
    thinking = reasoning_on(profile, out)

    for key in rules.rejected_thinking if thinking else rules.rejected:
        if out.get(key):
            why = " while it reasons" if key in profile.rejected_when_reasoning else ""
            raise unsupported(profile, model, key, why)

    apply_reasoning(profile, model, out, notes)
    if profile.renamed:
        _rename(profile, out, notes)
    if rules.drops or (thinking and profile.dropped_when_reasoning):
        _drop_fields(profile, out, notes, thinking)
    if not profile.stream_options:
        # infer0 rebuilds include_usage from the usage the provider reports anyway
        out.pop("stream_options", None)
    if profile.ranges:
        _clamp(profile, out, notes)
    _stop(profile, model, out, notes)
    if isinstance(out.get("messages"), list):
        out["messages"] = _messages(profile, model, out["messages"], notes)
    if not (notes.dropped or notes.renamed or notes.adjusted):
        return out, NO_CHANGES  # the common case: one shared value, nothing sorted
    return out, Changes(
        dropped=tuple(sorted(set(notes.dropped))),
        renamed=tuple(sorted(set(notes.renamed))),
        adjusted=tuple(sorted(set(notes.adjusted))),
    )


class _Rules(NamedTuple):
    """A profile and what apply_request_rules would otherwise work out from it on every call."""

    profile: Profile
    rejected: tuple[str, ...]  # sorted: the first one present is the one reported
    rejected_thinking: tuple[str, ...]  # the same, with rejected_when_reasoning
    drops: bool  # may `_drop_fields` drop anything (not counting dropped_when_reasoning)?


@functools.lru_cache(maxsize=1024)  # the profile's own cache key (table.resolve), one entry each
def _rules_for(kind: str, model: str, api_version: str | None) -> _Rules:
    profile = resolve(kind, model, api_version=api_version)
    return _Rules(profile, tuple(sorted(profile.rejected)),
                  tuple(sorted(profile.rejected | profile.rejected_when_reasoning)),
                  bool(profile.dropped) or profile.accepted is not None)


def _rename(profile: Profile, out: dict[str, Any], notes: Notes) -> None:
    for old, new in profile.renamed.items():
        if old not in out:
            continue
        value = out.pop(old)
        if new in out:
            notes.dropped.append(old)  # the app sent both: its provider-named field wins
        else:
            out[new] = value
            notes.renamed.append(f"{old}->{new}")


def _drop_fields(profile: Profile, out: dict[str, Any], notes: Notes, thinking: bool) -> None:
    dropped = profile.dropped | (profile.dropped_when_reasoning if thinking else frozenset())
    for key in list(out):
        if key in _ALWAYS:
            continue
        refused = key in dropped or (profile.accepted is not None and key not in profile.accepted)
        if not refused:
            continue
        value = out.pop(key)
        # temperature 1 is a reasoning model's only (default) value: nothing is lost
        if not (key == "temperature" and value == 1 and thinking):
            notes.dropped.append(key)


def _clamp(profile: Profile, out: dict[str, Any], notes: Notes) -> None:
    for key, (low, high) in profile.ranges.items():
        value = out.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not low <= value <= high:
            out[key] = min(max(float(value), low), high)
            notes.adjusted.append(key)


def _stop(profile: Profile, model: str, out: dict[str, Any], notes: Notes) -> None:
    stop = out.get("stop")
    if stop is None:
        return
    rule = profile.stop
    seqs = [stop] if isinstance(stop, str) else stop
    if not isinstance(seqs, list) or not all(isinstance(s, str) for s in seqs):
        raise gateway_error("invalid_request", "`stop` must be a string or an array of strings.", param="stop")
    kept = [s for s in seqs if s and not (rule.non_whitespace and not s.strip())]
    if rule.max_count is not None and len(kept) > rule.max_count:
        raise unsupported(profile, model, "stop", f" with more than {rule.max_count} sequences")
    if not kept:
        del out["stop"]
        notes.dropped.append("stop")
    elif len(kept) != len(seqs):
        out["stop"] = kept
        notes.adjusted.append("stop")


def _messages(profile: Profile, model: str, messages: list[Any], notes: Notes) -> list[Any]:
    """`messages` fitted to `profile`: the same list when no message changes (the common case,
    checked on every call without copying), else a new one; the app's dicts are never changed."""
    roles, role_map, fields_dropped = profile.roles, profile.role_map, profile.message_fields_dropped
    media = bool(profile.media_type_aliases or profile.image_media_types)
    new: list[Any] | None = None
    for i, msg in enumerate(messages):
        if msg.__class__ is not dict:
            continue
        m = msg
        role = m.get("role")
        if role not in roles and role in role_map:
            m = {**m, "role": role_map[role]}
            notes.renamed.append(f"messages[].role:{role}->{role_map[role]}")
        if fields_dropped:
            extra = fields_dropped & m.keys()
            if role == "function":
                extra = extra - {"name"}  # a legacy `function` message needs its name: not advisory
            if extra:
                m = {k: v for k, v in m.items() if k not in extra}
                notes.dropped.extend(f"messages[].{k}" for k in sorted(extra))
        if profile.tool_call_id is not None:
            m = _tool_ids(profile, m, notes)
        if media and isinstance(m.get("content"), list):
            m = _images(profile, model, m, i, notes)
        if m is not msg:
            if new is None:
                new = list(messages)
            new[i] = m
    return messages if new is None else new


def fit_tool_call_id(raw: Any, rule: ToolCallIdRule) -> str:
    """`raw` rewritten to match `rule` (a ToolCallIdRule); the same input always gives
    the same output, so an id and its `tool_call_id` still pair up."""
    text = str(raw or "")
    if re.fullmatch(rule.pattern, text):
        return text
    if rule.length is None and rule.bad_chars:
        fixed = re.sub(rule.bad_chars, "_", text)
        if fixed and re.fullmatch(rule.pattern, fixed):
            return fixed
    number = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    chars = []
    for _ in range(rule.length or 24):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


def _tool_ids(profile: Profile, m: dict[str, Any], notes: Notes) -> dict[str, Any]:
    rule = profile.tool_call_id
    assert rule is not None
    calls = m.get("tool_calls")
    if m.get("role") == "assistant" and isinstance(calls, list):
        fixed = []
        for call in calls:
            if isinstance(call, dict) and "id" in call:
                new_id = fit_tool_call_id(call["id"], rule)
                if new_id != call["id"]:
                    call = {**call, "id": new_id}
                    notes.adjusted.append("messages[].tool_calls[].id")
            fixed.append(call)
        m = {**m, "tool_calls": fixed}
    if m.get("role") == "tool" and "tool_call_id" in m:
        new_id = fit_tool_call_id(m["tool_call_id"], rule)
        if new_id != m["tool_call_id"]:
            m = {**m, "tool_call_id": new_id}
            notes.adjusted.append("messages[].tool_call_id")
    return m


def _images(profile: Profile, model: str, m: dict[str, Any], i: int, notes: Notes) -> dict[str, Any]:
    parts = []
    for j, part in enumerate(m["content"]):
        if isinstance(part, dict) and part.get("type") == "image_url":
            ref = part.get("image_url")
            url = ref.get("url") if isinstance(ref, dict) else ref
            match = _DATA_URL.match(url) if isinstance(url, str) else None
            if match:
                media = match[1].lower()
                media = profile.media_type_aliases.get(media, media)
                if profile.image_media_types is not None and media not in profile.image_media_types:
                    raise unsupported(profile, model, f"messages[{i}].content[{j}].image_url",
                                      f" for image type {match[1]!r} (it takes "
                                      + ", ".join(sorted(profile.image_media_types)) + ")")
                if media != match[1]:
                    new_url = f"data:{media}{match[2] or ''}," + url[match.end():]
                    ref = {**ref, "url": new_url} if isinstance(ref, dict) else new_url
                    part = {**part, "image_url": ref}
                    notes.adjusted.append("messages[].content[].image_url")
        parts.append(part)
    return {**m, "content": parts}
