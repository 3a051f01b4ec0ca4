"""Golden tests for the provider input rules (gateway/profiles): one case per rule in
tests/fixtures/profiles/requests.json, among them the four cases from issue 14."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from infer0app.gateway.profiles.apply import apply_request_rules
from infer0app.gateway.profiles.table import PROFILES, azure_has
from infer0app.gateway.providers.base import GatewayError
from infer0app.gateway.providers.kinds import KINDS

FIXTURE = Path(__file__).parents[2] / "fixtures" / "profiles" / "requests.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["cases"]


def run(case: dict[str, Any]):
    return apply_request_rules(case["kind"], case["model"], case["body"], api_version=case.get("api_version"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_case(case: dict[str, Any]) -> None:
    original = copy.deepcopy(case["body"])
    if "error" in case:
        with pytest.raises(GatewayError) as exc:
            run(case)
        err = exc.value
        assert (err.status, err.code, err.param) == (400, case["error"]["code"], case["error"]["param"])
        assert case["error"]["param"].split("[")[0] in err.message
        return
    body, changes = run(case)
    assert case["body"] == original, "the app's body must not be mutated"
    if case.get("check") == "mistral_ids":
        check_mistral_ids(body)
    else:
        assert body == case["expect"]
    assert list(changes.dropped) == case.get("dropped", [])
    assert list(changes.renamed) == case.get("renamed", [])
    assert list(changes.adjusted) == case.get("adjusted", [])


def check_mistral_ids(body: dict[str, Any]) -> None:
    assistant, first, second = body["messages"][1], body["messages"][2], body["messages"][3]
    ids = [c["id"] for c in assistant["tool_calls"]]
    assert all(re.fullmatch(r"[A-Za-z0-9]{9}", i) for i in ids)
    assert ids[1] == "Ab3dE6gH9", "a valid id is kept as it is"
    assert [first["tool_call_id"], second["tool_call_id"]] == ids, "each result still answers its call"


def test_the_four_issue_cases_are_covered() -> None:
    assert sum(1 for c in CASES if c.get("issue")) == 4


def test_rewritten_ids_are_stable_across_requests() -> None:
    """An app resends its history every turn: a rewritten id must come out the same."""
    case = next(c for c in CASES if c.get("check") == "mistral_ids")
    first, _ = run(case)
    second, _ = run(case)
    assert first == second


def test_every_provider_kind_has_a_profile() -> None:
    assert set(KINDS) - {"azure-openai"} <= set(PROFILES)


def test_changes_become_response_headers() -> None:
    _, changes = apply_request_rules(
        "openai", "o3-mini",
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 9, "temperature": 0.5, "top_p": 0.5},
    )
    assert changes.headers() == {
        "x-infer0-dropped-params": "temperature, top_p",
        "x-infer0-renamed-params": "max_tokens->max_completion_tokens",
    }
    _, none = apply_request_rules("openai", "gpt-4o", {"messages": [{"role": "user", "content": "hi"}]})
    assert none.headers() == {}


@pytest.mark.parametrize(
    "version, feature, has",
    [
        ("2024-06-01", "stream_options", False),
        ("2024-08-01-preview", "stream_options", False),
        ("2024-09-01-preview", "stream_options", True),
        ("2024-10-21", "stream_options", True),
        ("2024-10-21", "developer", False),
        ("2024-12-01-preview", "developer", True),
        ("2025-04-01-preview", "reasoning_effort", True),
        ("v1", "reasoning_effort", True),
        ("preview", "max_completion_tokens", True),
    ],
)
def test_azure_api_version_features(version: str, feature: str, has: bool) -> None:
    assert azure_has(version, feature) is has
