"""The product brief's token and refresh calls, sent with curl exactly as printed, to a real server.

The brief prints the form body one parameter per line. `curl -d @file` strips the line
breaks (what most people paste into); `--data-binary @file` keeps them, which works too.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.oauth import query_of
from tests.support.processes import run_cli_json

TOKEN_BODY = """grant_type=authorization_code
&code=<code>
&client_id=<client_id>
&client_secret=<client_secret>
&redirect_uri=<callback_url>
"""
REFRESH_BODY = """grant_type=refresh_token
&refresh_token=<refresh_token>
&client_id=<client_id>
&client_secret=<client_secret>
"""
CALLBACK = "https://app.example/callback"


def fill(template: str, **values: str) -> str:
    for name, value in values.items():
        template = template.replace(f"<{name}>", value)
    return template


def curl_post(url: str, body_file, mode: str) -> tuple[int, dict]:
    proc = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", "-X", "POST", url,
                           "-H", "Content-Type: application/x-www-form-urlencoded", mode, f"@{body_file}"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    text, _, status = proc.stdout.rpartition("\n")
    return int(status), json.loads(text)


@pytest.mark.parametrize("mode", ["-d", "--data-binary"])
async def test_brief_token_and_refresh_calls_work_as_written(serve_process, data_dir, tmp_path, mode):
    from tests.support.browser import Browser, csrf_from

    server = serve_process()
    run_cli_json("users", "create", "--email", "dev@example.com", data_dir=data_dir)
    run_cli_json("users", "create", "--email", "u@example.com", "--password-stdin",
                 input="correct horse battery\n", data_dir=data_dir)
    run_cli_json("providers", "add", "--user", "u@example.com", "--kind", "sandbox", data_dir=data_dir)
    app = run_cli_json("apps", "create", "--owner", "dev@example.com", "--name", "Brief",
                       "--redirect-uri", CALLBACK, data_dir=data_dir)

    # "GET https://…/oauth/authorize?client_id=<client_id>&redirect_uri=<callback_url>&response_type=code"
    path = f"/oauth/authorize?client_id={app['client_id']}&redirect_uri={CALLBACK}&response_type=code"
    browser = Browser(server.url)
    try:
        _, html = await browser.get(path)
        _, html = await browser.post("/login", {"csrf_token": csrf_from(html), "email": "u@example.com",
                                               "password": "correct horse battery", "next": path})
        async with browser.http.post(browser.url(path), allow_redirects=False,
                                     data={"csrf_token": csrf_from(html), "decision": "approve",
                                           "provider": "1"}) as resp:
            assert resp.status == 303
            code = query_of(resp.headers["Location"])["code"]
    finally:
        await browser.close()

    body = tmp_path / "token.txt"
    body.write_text(fill(TOKEN_BODY, code=code, client_id=app["client_id"], client_secret=app["client_secret"],
                         callback_url=CALLBACK))
    status, tok = curl_post(server.url + "/v1/oauth/token", body, mode)
    assert status == 200, tok
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 3600
    assert tok["access_token"].startswith("i0_at_") and tok["refresh_token"].startswith("i0_rt_")

    body = tmp_path / "refresh.txt"
    body.write_text(fill(REFRESH_BODY, refresh_token=tok["refresh_token"], client_id=app["client_id"],
                         client_secret=app["client_secret"]))
    status, new = curl_post(server.url + "/v1/oauth/refresh", body, mode)
    assert status == 200, new
    assert new["access_token"] != tok["access_token"] and new["expires_in"] == 3600
