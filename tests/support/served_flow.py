"""The authorization code flow against a running `infer0 serve` process, seeded through the CLI."""

from __future__ import annotations

from pathlib import Path

from tests.support.browser import Browser, csrf_from
from tests.support.oauth import query_of
from tests.support.processes import run_cli_json

CALLBACK = "https://app.example/callback"
USER = "u@example.com"
PASSWORD = "correct horse battery"


async def approved_code(server_url: str, data_dir: Path, *, name: str = "Brief") -> tuple[dict, str]:
    """A developer, a user with a sandbox connection, an app (via the CLI); then the user signs in
    and approves in the browser. Returns the app's `{"client_id", "client_secret"}` and the code."""
    run_cli_json("users", "create", "--email", "dev@example.com", data_dir=data_dir)
    run_cli_json("users", "create", "--email", USER, "--password-stdin", input=PASSWORD + "\n", data_dir=data_dir)
    run_cli_json("providers", "add", "--user", USER, "--kind", "sandbox", data_dir=data_dir)
    app = run_cli_json("apps", "create", "--owner", "dev@example.com", "--name", name,
                       "--redirect-uri", CALLBACK, data_dir=data_dir)

    # "GET https://…/oauth/authorize?client_id=<client_id>&redirect_uri=<callback_url>&response_type=code"
    path = f"/oauth/authorize?client_id={app['client_id']}&redirect_uri={CALLBACK}&response_type=code"
    browser = Browser(server_url)
    try:
        _, html = await browser.get(path)
        _, html = await browser.post("/login", {"csrf_token": csrf_from(html), "email": USER,
                                               "password": PASSWORD, "next": path})
        async with browser.http.post(browser.url(path), allow_redirects=False,
                                     data={"csrf_token": csrf_from(html), "decision": "approve",
                                           "provider": "1"}) as resp:
            assert resp.status == 303, await resp.text()
            return app, query_of(resp.headers["Location"])["code"]
    finally:
        await browser.close()
