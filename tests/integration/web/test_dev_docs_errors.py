"""/dev/docs lists the errors an app can meet, from the same tables the server raises from."""

from __future__ import annotations

import html as html_lib
import re

from infer0app.errors import api_errors, oauth_errors
from infer0app.errors.anthropic_errors import ANTHROPIC_TYPES


def _rows(page: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S).group(1)
    body = table.split("<tbody>", 1)[1]
    return [[html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


async def test_docs_list_every_api_code_an_app_can_meet(browser):
    resp, page = await browser.get("/dev/docs")
    assert resp.status == 200
    rows = _rows(page, "api-errors")
    listed = {(int(status), type_, code, retries) for status, type_, code, _, retries, _ in rows}
    expected = {(row.status, row.type, row.code, "yes" if row.sdk_retries else "no")
                for row in api_errors.for_apps()}
    assert listed == expected
    # /v1/messages answers each code in Anthropic's shape, with the type of its own table
    assert {(code, anthropic) for _, _, code, anthropic, _, _ in rows} == {
        (row.code, ANTHROPIC_TYPES[row.code]) for row in api_errors.for_apps()}
    assert (424, "provider_error", "provider_auth_failed", "no") in listed
    codes = {code for _, _, code, _ in listed}
    assert "provider_not_found" not in codes  # the dashboard's Test connection only
    assert {"grant_budget_exceeded", "grant_rate_limited", "limits_unavailable"} <= codes  # the limits' answers


async def test_docs_list_every_oauth_error(browser):
    _, page = await browser.get("/dev/docs")
    listed = {error: statuses for error, statuses, _, _ in _rows(page, "oauth-errors")}
    assert set(listed) == set(oauth_errors.OAUTH_ERROR_NAMES)
    assert listed["invalid_client"] == "400 / 401"
    assert listed["access_denied"] == "400 / 403 / redirect"  # device flow 400, registration closed 403
    assert listed["invalid_redirect_uri"] == listed["invalid_client_metadata"] == "400"  # RFC 7591
    assert listed["invalid_token"] == "401"  # RFC 7592
    assert listed["slow_down"] == "400 / 429"  # polling too fast (RFC 8628), throttles
    assert listed["login_required"] == listed["consent_required"] == "redirect"  # prompt=none


async def test_docs_describe_dynamic_registration_as_configured(server):
    from tests.support.browser import Browser

    for mode, expected in (("open", "/v1/oauth/register</code> with a JSON"), ("closed", "has closed dynamic")):
        srv = await server(client_registration=mode)
        b = Browser(str(srv.make_url("")).rstrip("/"))
        try:
            _, page = await b.get("/dev/docs")
        finally:
            await b.close()
        assert expected in page and "com.example.app:/oauth2redirect" in page
        assert "/.well-known/oauth-protected-resource/v1" in page
