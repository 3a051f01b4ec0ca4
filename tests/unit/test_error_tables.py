"""The one error vocabulary: the tables in infer0app/errors/ against /openapi.json, against the
code that raises, and against the OpenAI SDK's retry rule (issue 11)."""

from __future__ import annotations

import ast
from pathlib import Path

import openai
import pytest

from infer0app.api.openapi import document
from infer0app.errors import api_errors, oauth_errors
from infer0app.errors.api_errors import API_ERRORS, BY_STATUS
from infer0app.errors.oauth_errors import BEARER_CHALLENGES, OAUTH_ERROR_NAMES

PACKAGE = Path(__file__).resolve().parents[2] / "infer0app"
DOC = document("https://ai.example.com")
API_OPERATIONS = (api_errors.CHAT, api_errors.RESPONSES, api_errors.MODELS, api_errors.ME, api_errors.EMBEDDINGS)
OAUTH_OPERATIONS = oauth_errors.CLIENT_ENDPOINTS


def _operation(name: str) -> dict:
    method, path = name.split(" ", 1)
    return DOC["paths"][path][method.lower()]


def _documented_openai(responses: dict) -> set[tuple[int, str, str]]:
    """(status, code, type) for every pair a documented error response's schema admits."""
    found = set()
    for status, response in responses.items():
        if int(status) < 400:
            continue
        schema = response["content"]["application/json"]["schema"]
        assert schema["allOf"][0] == {"$ref": "#/components/schemas/OpenAIError"}, status
        for pair in schema["allOf"][1]["properties"]["error"]["anyOf"]:
            found.add((int(status), pair["properties"]["code"]["const"], pair["properties"]["type"]["const"]))
    return found


def _documented_oauth(responses: dict) -> set[tuple[int, str]]:
    found = set()
    for status, response in responses.items():
        if int(status) < 400:
            continue
        schema = response["content"]["application/json"]["schema"]
        assert schema["allOf"][0] == {"$ref": "#/components/schemas/OAuthError"}, status
        found |= {(int(status), name) for name in schema["allOf"][1]["properties"]["error"]["enum"]}
    return found


def _expected_openai(where: str) -> set[tuple[int, str, str]]:
    return {(row.status, row.code, row.type) for row in API_ERRORS.values()
            if where in row.where and row.reserved_for is None}


# -- the table against /openapi.json ----------------------------------------------------------
@pytest.mark.parametrize("operation", API_OPERATIONS)
def test_each_api_operation_documents_exactly_the_codes_it_can_answer(operation):
    documented = _documented_openai(_operation(operation)["responses"])
    expected = _expected_openai(operation)
    assert documented - expected == set(), "documented, but not in the table with this status and type"
    assert expected - documented == set(), "in the table, but not documented under its status"


def test_messages_documents_each_code_it_can_answer_with_its_anthropic_type():
    from infer0app.errors.anthropic_errors import ANTHROPIC_TYPES
    documented = set()
    for status, response in _operation(api_errors.MESSAGES)["responses"].items():
        if int(status) < 400:
            continue
        schema = response["content"]["application/json"]["schema"]
        assert schema["allOf"][0] == {"$ref": "#/components/schemas/AnthropicError"}, status
        types = schema["allOf"][1]["properties"]["error"]["properties"]["type"]["enum"]
        documented |= {(int(status), t) for t in types}
        for code in (line.split(" ", 2)[1] for line in response["description"].splitlines()):
            assert (API_ERRORS[code].status, ANTHROPIC_TYPES[code]) in documented
    expected = {(r.status, ANTHROPIC_TYPES[r.code]) for r in api_errors.emitted(api_errors.MESSAGES)}
    assert documented == expected and (401, "authentication_error") in documented
    assert (429, "rate_limit_error") in documented and (402, "billing_error") in documented


def test_every_code_an_app_can_meet_has_an_anthropic_type():
    from infer0app.errors.anthropic_errors import ANTHROPIC_TYPES
    assert {r.code for r in api_errors.for_apps()} <= set(ANTHROPIC_TYPES)
    assert set(ANTHROPIC_TYPES) <= set(API_ERRORS)


def test_provider_auth_failed_is_documented_as_the_424_it_is():
    documented = _documented_openai(_operation(api_errors.CHAT)["responses"])
    assert (424, "provider_auth_failed", "provider_error") in documented
    assert not any(code == "provider_auth_failed" and status != 424 for status, code, _ in documented)


def test_unrouted_answers_are_documented_as_components():
    responses = DOC["components"]["responses"]
    api = {k.removeprefix("api_"): v for k, v in responses.items() if k.startswith("api_")}
    oauth = {k.removeprefix("oauth_"): v for k, v in responses.items() if k.startswith("oauth_")}
    assert _documented_openai(api) == _expected_openai(api_errors.UNROUTED) != set()
    assert _documented_oauth(oauth) == {(s, r.error) for r in oauth_errors.emitted(oauth_errors.UNROUTED)
                                        for s in r.statuses}


def test_every_documented_code_is_in_the_table_and_every_app_facing_code_is_documented():
    documented = set()
    for operation in API_OPERATIONS:
        documented |= {code for _, code, _ in _documented_openai(_operation(operation)["responses"])}
    documented |= {code for _, code, _ in _documented_openai(
        {k[4:]: v for k, v in DOC["components"]["responses"].items() if k.startswith("api_")})}
    assert documented <= set(API_ERRORS)
    app_facing = {row.code for row in api_errors.for_apps()}
    assert documented == app_facing
    reserved = {row.code for row in API_ERRORS.values() if row.reserved_for}
    assert not reserved & documented and not any(code in str(DOC) for code in reserved)
    # The limits' codes (issue 13) are emitted now, so documented under their own statuses.
    assert {"grant_budget_exceeded", "grant_rate_limited", "limits_unavailable"} <= documented


def test_every_table_operation_exists_in_the_document():
    named = {w for row in API_ERRORS.values() for w in row.where} - {api_errors.UNROUTED, api_errors.DASHBOARD}
    named |= {w for row in oauth_errors.OAUTH_ERRORS for w in row.where} - {oauth_errors.REDIRECT,
                                                                            oauth_errors.UNROUTED}
    for operation in named:
        assert _operation(operation)["responses"], operation


@pytest.mark.parametrize("operation", OAUTH_OPERATIONS)
def test_each_oauth_operation_documents_exactly_its_rfc_errors(operation):
    documented = _documented_oauth(_operation(operation)["responses"])
    expected = {(s, r.error) for r in oauth_errors.emitted(operation) for s in r.statuses}
    assert documented == expected


def test_oauth_error_schema_and_redirect_list_come_from_the_table():
    assert DOC["components"]["schemas"]["OAuthError"]["properties"]["error"]["enum"] == list(OAUTH_ERROR_NAMES)
    redirect = DOC["paths"]["/oauth/authorize"]["get"]["responses"]["303"]["description"]
    for row in oauth_errors.emitted(oauth_errors.REDIRECT):
        assert f"`{row.error}`" in redirect


# -- the table against the SDK --------------------------------------------------------------
def test_sdk_retries_column_matches_the_installed_openai_sdk():
    client = openai.OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1")
    http = openai._base_client.httpx2 if hasattr(openai._base_client, "httpx2") else openai._base_client.httpx
    request = http.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    for row in API_ERRORS.values():
        assert row.sdk_retries == client._should_retry(http.Response(row.status, request=request)), row.code
    assert API_ERRORS["provider_auth_failed"].sdk_retries is False  # why 424 and not 502
    assert API_ERRORS["provider_unavailable"].sdk_retries is True


# -- the table against the code that raises ---------------------------------------------------
# Calls whose string argument is a /v1 code: (function name, positional index, keyword).
API_SITES = {"gateway_error": (0, "code"), "api_error": (0, "code"), "openai_error": (0, "code"),
             "_answer": (0, "code"), "GatewayError": (None, "code")}
OAUTH_SITES = {"oauth_error": (1, "error"), "oauth_error_name": (0, "error"), "OAuth2Error": (None, "error"),
               "AuthorizationError": (0, "error"), "_answer": (1, "challenge")}


def _calls(sites: dict) -> list[tuple[str, str, int, str | None]]:
    """(file, function, line, literal code or None when the argument is not a literal)."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name not in sites:
                continue
            index, keyword = sites[name]
            arg = next((kw.value for kw in node.keywords if kw.arg == keyword), None)
            if arg is None and index is not None and len(node.args) > index:
                arg = node.args[index]
            literal = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
            out.append((str(path.relative_to(PACKAGE)), name, node.lineno, literal))
    return out


def test_every_api_raise_site_uses_a_code_of_the_table():
    sites = _calls(API_SITES)
    raised = {code for *_, code in sites if code}
    assert len(raised) > 15, "the walk found too few raise sites: did the constructor's name change?"
    unknown = [s for s in sites if s[3] and s[3] not in API_ERRORS]
    assert unknown == [], "raise sites with codes missing from infer0app/errors/api_errors.py"
    direct = [s for s in sites if s[1] == "GatewayError" and s[0] != "gateway/providers/base.py"]
    assert direct == [], "build GatewayErrors with gateway_error(code, ...), status and type from the table"


def test_every_unreserved_code_has_a_raise_site_and_reserved_codes_none():
    raised = {code for *_, code in _calls(API_SITES) if code} | set(BY_STATUS.values())
    unreserved = {code for code, row in API_ERRORS.items() if row.reserved_for is None}
    assert unreserved - raised == set(), "documented but never raised: remove them, or mark them reserved_for"
    reserved = set(API_ERRORS) - unreserved
    assert reserved & raised == set(), "now raised: drop reserved_for so /openapi.json and /dev/docs list it"


def test_every_oauth_raise_site_uses_an_error_of_the_table():
    sites = _calls(OAUTH_SITES)
    named = [s for s in sites if s[3]]
    assert len(named) >= 5
    assert [s for s in named if s[3] not in OAUTH_ERROR_NAMES and s[3] not in BEARER_CHALLENGES] == []


def test_bare_http_errors_keep_their_status_and_bearer_challenges_match_the_body():
    for status, code in BY_STATUS.items():
        assert api_errors.for_status(status).status == status == API_ERRORS[code].status
    assert api_errors.for_status(503).code == "internal_error"
    assert api_errors.for_status(418).code == "invalid_request"
    for name, challenge in BEARER_CHALLENGES.items():
        assert API_ERRORS[name].status == challenge.status


def test_tables_import_without_aiohttp():
    for module in ("api_errors", "oauth_errors"):
        tree = ast.parse((PACKAGE / "errors" / f"{module}.py").read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert imported <= {"__future__", "dataclasses"}, imported
