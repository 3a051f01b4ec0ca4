"""Every provider kind's input rules, as data (issue 14 §1, kind 2).

Sources, per kind (each rule has a golden test in tests/unit/gateway/test_profiles_*.py):

* OpenAI reasoning models (o1, o3, o4-mini, gpt-5): `max_tokens` is refused, use
  `max_completion_tokens`; `temperature`, `top_p`, penalties and `logit_bias` are refused
  (only the default temperature 1 is allowed); `logprobs` / `top_logprobs` are refused.
  o3, o4-mini and gpt-5 also refuse `stop`. o1-mini / o1-preview know neither `system`
  nor `developer` messages. gpt-5.1 and later default to `reasoning_effort: "none"` and
  then take sampling parameters again. Non-reasoning models refuse `reasoning_effort`.
* Anthropic Messages: temperature 0..1; each stop sequence must contain non-whitespace;
  base64 images only as image/jpeg, image/png, image/gif, image/webp; tool-use ids
  `[A-Za-z0-9_-]`; `reasoning_effort` becomes extended thinking (see reasoning.py).
* Mistral: a strict schema (unknown fields -> 422 `extra_forbidden`), including
  `stream_options` (usage comes on the last chunk anyway), `max_completion_tokens`
  (it takes `max_tokens`), `seed` (it takes `random_seed`), `logit_bias`, `user`, `store`,
  and `reasoning_content` in messages; tool-call ids exactly 9 chars of [a-zA-Z0-9].
* Groq: `logprobs`, `top_logprobs`, `logit_bias`, `messages[].name` and `n` != 1 are 400s
  (`n` and the logprobs are contract capabilities, refused in `gateway.params`).
* DeepSeek: takes `max_tokens` (not `max_completion_tokens`), up to 16 stop sequences,
  400 when `reasoning_content` is sent back in messages; `deepseek-reasoner` ignores
  sampling parameters and answers 400 to `logprobs` / `top_logprobs`.
* xAI: grok-3-mini takes `reasoning_effort` "low" or "high" only; Grok 4 (before 4.3)
  refuses `presence_penalty`, `frequency_penalty`, `stop` and `reasoning_effort`.
* Gemini (OpenAI endpoint): only its documented fields (unknown -> 400); up to 5 stop
  sequences; `reasoning_effort` low/medium/high/none maps to thinking budgets on 2.5
  (2.5 Pro cannot turn thinking off), Gemini 3 knows thinking levels, not "none".
* Ollama (OpenAI endpoint): `max_tokens`, not `max_completion_tokens`; no `logit_bias`.
* Together, Fireworks: `max_tokens`. OpenRouter: passes OpenAI's shape through.
* Azure OpenAI: by api-version (see `azure_profile`): `stream_options` and
  `max_completion_tokens` from 2024-09-01-preview (GA 2024-10-21), the `developer` role
  and `reasoning_effort` from 2024-12-01-preview; plus OpenAI's model-family rules,
  matched on the deployment name.
* Every kind except OpenAI, OpenRouter and Azure (new versions) gets `developer`
  messages as `system` (same meaning, a role every server knows).
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from infer0app.gateway.profiles.model import (
    CLASSIC_ROLES,
    OPENAI_ROLES,
    SAMPLING,
    Family,
    Profile,
    StopRule,
    ToolCallIdRule,
    resolve_families,
)

_LOGPROBS = frozenset({"logprobs", "top_logprobs"})
_PENALTIES = frozenset({"presence_penalty", "frequency_penalty"})
_TO_MAX_TOKENS = {"max_completion_tokens": "max_tokens"}
_JPEG_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
_NAME = frozenset({"name"})  # messages[].name (the speaker's name): advisory, dropped and reported

#: OpenAI's reasoning families (also matched on Azure deployment names).
OPENAI_FAMILIES: tuple[Family, ...] = (
    Family("reasoning", r"(o\d+)(?![a-z])|gpt-5(?!-chat)", {
        "+renamed": {"max_tokens": "max_completion_tokens"},
        "reasoning_default_on": True,
        "dropped_when_reasoning": SAMPLING,
        "rejected_when_reasoning": _LOGPROBS,
    }),
    Family("no-stop", r"o3(?!-mini)|o4|gpt-5(?!-chat)", {"+dropped_when_reasoning": {"stop"}}),
    # gpt-5.1 and later reason only when asked: at effort "none" sampling works again.
    Family("effort-none-default", r"gpt-5\.\d", {"reasoning_default_on": False}),
    Family("o1-legacy", r"o1-(mini|preview)", {
        "roles": CLASSIC_ROLES - {"system"},
        "role_map": {"developer": "user", "system": "user"},
        "+dropped": {"reasoning_effort"},
    }),
    Family("non-reasoning", r"(?!o\d|gpt-5(?!-chat))", {"+dropped": {"reasoning_effort"}}),
)

_ANTHROPIC_ACCEPTED = frozenset({
    "messages", "model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "stop",
    "temperature", "top_p", "tools", "tool_choice", "parallel_tool_calls", "response_format", "user", "n",
    "reasoning_effort",
})
_MISTRAL_ACCEPTED = frozenset({
    "model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed",
    "response_format", "tools", "tool_choice", "presence_penalty", "frequency_penalty", "n", "prediction",
    "parallel_tool_calls", "safe_prompt", "prompt_mode",
})
_GEMINI_ACCEPTED = frozenset({
    "messages", "model", "stream", "stream_options", "tools", "tool_choice", "modalities", "n",
    "stop", "max_completion_tokens", "max_tokens", "temperature", "top_p", "response_format",
    "audio", "reasoning_effort", "seed", "presence_penalty", "frequency_penalty", "extra_body",
    "service_tier",
})
#: The sandbox answers from these fields; anything else is reported as dropped.
_SANDBOX_ACCEPTED = frozenset({
    "messages", "model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "stop", "n",
    "temperature", "top_p", "seed", "user", "tools", "tool_choice", "parallel_tool_calls", "response_format",
})

PROFILES: dict[str, Profile] = {p.kind: p for p in (
    Profile("openai", families=OPENAI_FAMILIES, stop=StopRule(max_count=4)),
    Profile(
        "anthropic",
        accepted=_ANTHROPIC_ACCEPTED,
        ranges={"temperature": (0.0, 1.0), "top_p": (0.0, 1.0)},
        stop=StopRule(non_whitespace=True),
        image_media_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
        media_type_aliases=_JPEG_ALIASES,
        tool_call_id=ToolCallIdRule(r"[A-Za-z0-9_-]+", bad_chars=r"[^A-Za-z0-9_-]"),
        reasoning="anthropic",
        rejected=_LOGPROBS,
        message_fields_dropped=_NAME,
    ),
    Profile(
        "mistral",
        accepted=_MISTRAL_ACCEPTED,
        renamed={**_TO_MAX_TOKENS, "seed": "random_seed"},
        roles=CLASSIC_ROLES,
        stream_options=False,
        rejected=_LOGPROBS,
        message_fields_dropped=frozenset({"reasoning_content", "reasoning"}),
        tool_call_id=ToolCallIdRule(r"[A-Za-z0-9]{9}", length=9),
        reasoning="drop",
    ),
    Profile(
        "groq",
        roles=CLASSIC_ROLES,
        dropped=frozenset({"logit_bias"}),
        message_fields_dropped=_NAME,
        rejected=_LOGPROBS,
        stop=StopRule(max_count=4),
    ),
    Profile(
        "deepseek",
        renamed=_TO_MAX_TOKENS,
        roles=CLASSIC_ROLES,
        dropped=frozenset({"seed", "logit_bias", "user", "reasoning_effort"}),
        message_fields_dropped=frozenset({"reasoning_content"}),
        stop=StopRule(max_count=16),
        families=(
            Family("reasoner", r"deepseek-reasoner", {
                "reasoning_default_on": True,
                "dropped_when_reasoning": SAMPLING,
                "rejected_when_reasoning": _LOGPROBS,
            }),
        ),
    ),
    Profile(
        "xai",
        roles=CLASSIC_ROLES,
        families=(
            Family("grok-3-mini", r"grok-3-mini", {
                "reasoning": "levels",
                "effort_levels": {"minimal": "low", "low": "low", "medium": "high", "high": "high", "none": None},
            }),
            Family("grok-4", r"grok-4(?!\.[3-9])", {
                "+dropped": _PENALTIES | {"stop", "reasoning_effort"},
            }),
            Family("non-reasoning-grok", r"grok-(2|3(?!-mini))", {"+dropped": {"reasoning_effort"}}),
        ),
    ),
    Profile("together", renamed=_TO_MAX_TOKENS, roles=CLASSIC_ROLES),
    Profile("fireworks", renamed=_TO_MAX_TOKENS, roles=CLASSIC_ROLES),
    Profile("openrouter"),
    Profile(
        "gemini",
        accepted=_GEMINI_ACCEPTED,
        roles=CLASSIC_ROLES,
        stop=StopRule(max_count=5),
        reasoning="gemini",
        media_type_aliases=_JPEG_ALIASES,
        message_fields_dropped=_NAME,
    ),
    Profile(
        "ollama",
        renamed=_TO_MAX_TOKENS,
        roles=CLASSIC_ROLES,
        dropped=frozenset({"logit_bias", "user"}),
    ),
    Profile("openai-compatible", roles=CLASSIC_ROLES),
    Profile("sandbox", accepted=_SANDBOX_ACCEPTED, role_map={}),
)}

_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")

#: Azure OpenAI api-version thresholds (data-plane inference): the first version with
#: each feature. Versions without a date (`v1`, `latest`, `preview`) have them all.
AZURE_SINCE = {
    "stream_options": "2024-09-01",
    "max_completion_tokens": "2024-09-01",
    "developer": "2024-12-01",
    "reasoning_effort": "2024-12-01",
}


def azure_has(api_version: str, feature: str) -> bool:
    """Whether an Azure api-version (e.g. "2024-10-21", "2024-12-01-preview", "v1") has `feature`."""
    match = _DATE.match(api_version or "")
    return match is None or match[1] >= AZURE_SINCE[feature]


def azure_profile(api_version: str) -> Profile:
    """Azure OpenAI at one api-version: OpenAI's rules minus what that version lacks."""
    base = Profile("azure-openai", families=OPENAI_FAMILIES, stop=StopRule(max_count=4))
    renamed: dict[str, str] = {}
    dropped: set[str] = set()
    roles = OPENAI_ROLES
    if not azure_has(api_version, "max_completion_tokens"):
        renamed["max_completion_tokens"] = "max_tokens"
    if not azure_has(api_version, "developer"):
        roles = CLASSIC_ROLES
    if not azure_has(api_version, "reasoning_effort"):
        dropped.add("reasoning_effort")
    return replace(
        base,
        renamed=renamed,
        dropped=frozenset(dropped),
        roles=roles,
        stream_options=azure_has(api_version, "stream_options"),
    )


@functools.lru_cache(maxsize=1024)  # few (kind, model, version) triples per server: resolve each once
def resolve(kind: str, model: str, *, api_version: str | None = None) -> Profile:
    """The rules for one call: kind `kind` (a provider_kinds slug), model `model` (Azure:
    the deployment name), Azure `api_version`. An unknown kind gets OpenAI-compatible rules.
    The Profile returned is shared between calls: read it, never change it."""
    if kind == "azure-openai":
        # imported here: once the adapters apply profiles, a top-level import would be a cycle
        from infer0app.gateway.providers.azure import DEFAULT_API_VERSION

        profile = azure_profile(api_version or DEFAULT_API_VERSION)
    else:
        profile = PROFILES.get(kind) or PROFILES["openai-compatible"]
    profile = resolve_families(profile, model)
    # an Azure api-version without max_completion_tokens keeps max_tokens, even for a
    # reasoning deployment (the two renames would otherwise undo each other)
    if profile.renamed.get("max_tokens") == "max_completion_tokens" and \
            profile.renamed.get("max_completion_tokens") == "max_tokens":
        renamed = {k: v for k, v in profile.renamed.items() if k != "max_tokens"}
        profile = replace(profile, renamed=renamed)
    return profile
