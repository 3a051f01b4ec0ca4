"""The shape of a provider profile: what one provider kind accepts, as data.

A `Profile` describes the input rules of one provider kind (one slug of
`services.provider_kinds.KINDS`); `Family` entries refine it for model families whose
rules differ (OpenAI reasoning models, DeepSeek's reasoner, xAI's Grok 4, ...).
`resolve(kind, model, api_version=...)` returns the profile that applies to one call.
The rules themselves are in `profiles/table.py`; `profiles/apply.py` applies them.

Every field is named after the OpenAI Chat Completions request field it governs
(https://platform.openai.com/docs/api-reference/chat/create): apps speak OpenAI's
shape to infer0, so a profile says how that shape must change for the provider.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

#: Roles OpenAI's Chat Completions API knows.
OPENAI_ROLES: frozenset[str] = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
#: Roles almost every OpenAI-compatible server knows (no `developer`).
CLASSIC_ROLES: frozenset[str] = frozenset({"system", "user", "assistant", "tool", "function"})

#: Sampling parameters reasoning models refuse (OpenAI o-series, gpt-5 with reasoning on).
SAMPLING: frozenset[str] = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty", "logit_bias"})


@dataclass(frozen=True)
class StopRule:
    """Rules for `stop`: at most `max_count` sequences (None: no documented limit);
    `non_whitespace`: each sequence must contain a non-whitespace character (Anthropic)."""

    max_count: int | None = None
    non_whitespace: bool = False


@dataclass(frozen=True)
class ToolCallIdRule:
    """A provider's tool-call id format. `pattern` full-matches a valid id; `length` is
    the exact length when fixed (Mistral: 9). Invalid ids are rewritten the same way
    wherever they appear (`tool_calls[].id` and `tool_call_id`), so pairs still match."""

    pattern: str
    length: int | None = None
    bad_chars: str | None = None  # regex of characters replaced by "_" (variable-length ids)


@dataclass(frozen=True)
class Profile:
    """Input rules of one provider kind (optionally refined for a model family).

    * `accepted`: the top-level request fields the provider takes; others are dropped
      and reported (None: everything passes, the provider judges).
    * `renamed`: app field -> provider field (e.g. `max_completion_tokens` -> `max_tokens`).
    * `dropped`: advisory fields removed and reported even if `accepted` is None.
    * `rejected`: fields whose loss would break the app's contract: a 400 naming them
      when the app set them (truthy), e.g. `logprobs` on a reasoning model.
    * `roles` / `role_map`: roles the provider knows; an unknown role is mapped
      (`developer` -> `system`) and reported as renamed.
    * `message_fields_dropped`: per-message fields the provider refuses (DeepSeek and
      Mistral reject `reasoning_content` echoed back in assistant messages; Groq
      `name`, kept on legacy `function` messages, which need it).
    * `ranges`: numeric fields clamped to the provider's range (Anthropic temperature 0..1).
    * `stream_options`: whether the provider accepts `stream_options` at all.
    * `image_media_types` / `media_type_aliases`: base64 image types the provider takes,
      and spellings normalised first (`image/jpg` -> `image/jpeg`).
    * `reasoning`: how OpenAI's `reasoning_effort` reaches the provider: "pass" (as is),
      "levels" (mapped through `effort_levels`; a level mapped to None is dropped),
      "drop", "anthropic" (extended thinking) or "gemini" (Gemini's thinking levels).
    * `reasoning_default_on`: the model reasons when the app sends no `reasoning_effort`.
    * `dropped_when_reasoning` / `rejected_when_reasoning`: like `dropped` / `rejected`,
      but only while the model reasons (gpt-5.1 takes `temperature` at effort "none").
    """

    kind: str
    accepted: frozenset[str] | None = None
    renamed: Mapping[str, str] = field(default_factory=dict)
    dropped: frozenset[str] = frozenset()
    rejected: frozenset[str] = frozenset()
    roles: frozenset[str] = OPENAI_ROLES
    role_map: Mapping[str, str] = field(default_factory=lambda: {"developer": "system"})
    message_fields_dropped: frozenset[str] = frozenset()
    tool_call_id: ToolCallIdRule | None = None
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    stream_options: bool = True
    stop: StopRule = StopRule()
    image_media_types: frozenset[str] | None = None
    media_type_aliases: Mapping[str, str] = field(default_factory=dict)
    reasoning: str = "pass"
    effort_levels: Mapping[str, str | None] = field(default_factory=dict)
    reasoning_default_on: bool = False
    dropped_when_reasoning: frozenset[str] = frozenset()
    rejected_when_reasoning: frozenset[str] = frozenset()
    families: tuple[Family, ...] = ()


@dataclass(frozen=True)
class Family:
    """A model family's refinement of its kind's profile.

    `pattern` is a regex matched (`re.match`) against the lowercased model name;
    `changes` replaces Profile fields, except keys starting with "+" which add to a set
    or mapping field (`{"+dropped": {"stop"}}`). Every matching family applies, in order.
    """

    name: str
    pattern: str
    changes: Mapping[str, Any]

    def matches(self, model: str) -> bool:
        return re.match(self.pattern, model) is not None


def refine(profile: Profile, family: Family) -> Profile:
    """`profile` with `family.changes` applied (see `Family`)."""
    updates: dict[str, Any] = {}
    for key, value in family.changes.items():
        if key.startswith("+"):
            name = key[1:]
            current = updates.get(name, getattr(profile, name))
            if isinstance(current, frozenset):
                updates[name] = current | frozenset(value)
            else:
                updates[name] = {**current, **value}
        else:
            updates[key] = frozenset(value) if isinstance(value, (set, frozenset)) else value
    return replace(profile, **updates)


def model_key(model: str) -> str:
    """The model name families are matched against: lowercased, without Gemini's
    `models/` prefix."""
    return model.strip().lower().removeprefix("models/")


def resolve_families(profile: Profile, model: str) -> Profile:
    key = model_key(model)
    for family in profile.families:
        if family.matches(key):
            profile = refine(profile, family)
    return replace(profile, families=())


class Notes:
    """What the rules changed in one request, for the app's response headers:
    `dropped` field names, `renamed` "old->new" pairs, `adjusted` fields whose value was
    normalised (clamped, a stop sequence removed, an id or media type rewritten)."""

    def __init__(self) -> None:
        self.dropped: list[str] = []
        self.renamed: list[str] = []
        self.adjusted: list[str] = []
