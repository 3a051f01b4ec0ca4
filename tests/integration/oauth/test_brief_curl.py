"""The product brief's token and refresh calls, sent with curl exactly as printed, to a real server.

The brief prints the form body one parameter per line. `curl -d @file` strips the line
breaks (what most people paste into); `--data-binary @file` keeps them, which works too.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.served_flow import CALLBACK, approved_code

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
    server = serve_process()
    app, code = await approved_code(server.url, data_dir)

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
