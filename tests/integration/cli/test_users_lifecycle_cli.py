"""`infer0 users delete | reset-password | reset-2fa` (issue 17): JSON on stdout, exit 0 done,
1 not found or refused, 2 bad input; the reset link and the 2FA reset work against the real server."""

from __future__ import annotations

import asyncio
import json

import pytest

from infer0app.store.models import PasswordReset
from tests.support.account import PASSWORD, enrol
from tests.support.browser import Browser, csrf_from
from tests.support.processes import run_cli, run_cli_json


@pytest.fixture
async def served(server):
    srv = await server()
    base = str(srv.make_url("")).rstrip("/")
    made = []

    def browser():
        b = Browser(base)
        made.append(b)
        return b

    yield base, browser
    for b in made:
        await b.close()


async def cli(*args, **kw):
    """The CLI in a subprocess, while the in-process server keeps serving the same data dir."""
    return await asyncio.to_thread(run_cli, *args, **kw)


async def test_reset_link_sets_a_new_password_once_and_ends_every_session(served, data_dir):
    base, browser = served
    laptop, phone = browser(), browser()
    await laptop.signup("alice@example.com")
    await phone.login("alice@example.com")
    proc = await cli("users", "reset-password", "Alice@Example.com", "--public-url", base, data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"email", "reset_url", "expires_at"} and out["email"] == "alice@example.com"
    url = out["reset_url"]
    assert url.startswith(base + "/reset-password?token=i0_pr_")
    token = url.split("token=", 1)[1]
    assert all(token not in (r.token_hash or "") for r in PasswordReset.select())  # only its hash is stored

    visitor = browser()
    path = url[len(base):]
    resp, html = await visitor.get(path)
    assert resp.status == 200 and "alice@example.com" in html
    resp, html = await visitor.post("/reset-password", {"csrf_token": csrf_from(html), "token": token,
                                                        "password": "short", "password_confirm": "short"})
    assert resp.status == 400 and "at least 10 characters" in html
    resp, html = await visitor.post("/reset-password", {"csrf_token": csrf_from(html), "token": token,
                                                        "password": "a whole new password",
                                                        "password_confirm": "a whole new password"})
    assert resp.status == 200 and "Your password is set." in html
    for b in (laptop, phone):
        resp, _ = await b.get("/", allow_redirects=False)
        assert resp.status == 303  # signed out everywhere
    resp, html = await visitor.get(path)
    assert resp.status == 404 and "expired or was already used" in html
    resp, _ = await visitor.login("alice@example.com", PASSWORD, allow_redirects=False)
    assert resp.status == 400
    resp, _ = await visitor.login("alice@example.com", "a whole new password", allow_redirects=False)
    assert resp.status == 303


async def test_an_expired_or_replaced_link_does_not_work(served, data_dir):
    base, browser = served
    await browser().signup("alice@example.com")
    first = json.loads((await cli("users", "reset-password", "--email", "alice@example.com", "--public-url", base,
                                  data_dir=data_dir)).stdout)["reset_url"]
    second = json.loads((await cli("users", "reset-password", "alice@example.com", "--public-url", base,
                                   "--expires-in", "600", data_dir=data_dir)).stdout)["reset_url"]
    b = browser()
    resp, _ = await b.get(first[len(base):])
    assert resp.status == 404  # a newer link replaces it
    resp, _ = await b.get(second[len(base):])
    assert resp.status == 200
    PasswordReset.update(expires_at=1).execute()
    resp, html = await b.get(second[len(base):])
    assert resp.status == 404 and "Ask your operator for a new one." in html


async def test_reset_2fa_lets_the_user_in_with_the_password_alone(served, data_dir):
    _base, browser = served
    b = browser()
    await b.signup("alice@example.com")
    await enrol(b)
    other = browser()
    resp, _ = await other.login("alice@example.com")
    assert str(resp.url).endswith("/login/code")
    proc = await cli("users", "reset-2fa", "alice@example.com", data_dir=data_dir)
    assert proc.returncode == 0 and json.loads(proc.stdout) == {"email": "alice@example.com",
                                                                "two_factor_removed": True}
    third = browser()
    resp, _ = await third.login("alice@example.com")
    assert str(resp.url).endswith("/")


def test_delete_asks_for_yes_then_deletes(data_dir):
    run_cli_json("users", "create", "--email", "a@example.com", data_dir=data_dir)
    run_cli_json("apps", "create", "--owner", "a@example.com", "--name", "A App",
                 "--redirect-uri", "https://a.example/cb", data_dir=data_dir)
    proc = run_cli("users", "delete", "a@example.com", data_dir=data_dir)
    assert proc.returncode == 1 and "pass --yes" in proc.stderr
    preview = json.loads(proc.stdout)
    assert preview["email"] == "a@example.com" and [a["name"] for a in preview["would_delete"]["apps"]] == ["A App"]
    assert [u["email"] for u in run_cli_json("users", "list", data_dir=data_dir)] == ["a@example.com"]

    out = run_cli_json("users", "delete", "a@example.com", "--yes", data_dir=data_dir)
    assert out["deleted"] == "a@example.com" and out["apps_deleted"] == 1 and out["wal_truncated"] is True
    assert run_cli_json("users", "list", data_dir=data_dir) == []
    assert run_cli_json("apps", "list", data_dir=data_dir) == []


@pytest.mark.parametrize("args,code,needle", [
    (("users", "delete", "ghost@example.com", "--yes"), 1, "No user"),
    (("users", "reset-password", "ghost@example.com"), 1, "No user"),
    (("users", "reset-2fa", "ghost@example.com"), 1, "No user"),
    (("users", "delete", "--yes"), 2, "name the user once"),
    (("users", "reset-password", "a@example.com", "--expires-in", "5"), 2, "between 300 seconds"),
    (("users", "reset-password", "a@example.com", "--public-url", "ftp://x"), 2, "not an http(s) URL"),
])
def test_refusals_and_bad_input_exit_codes(data_dir, args, code, needle):
    run_cli_json("users", "create", "--email", "a@example.com", data_dir=data_dir)
    proc = run_cli(*args, data_dir=data_dir)
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("infer0: error:") and needle in lines[0], proc.stderr
    assert [u["email"] for u in run_cli_json("users", "list", data_dir=data_dir)] == ["a@example.com"]


def test_every_new_argument_has_help():
    from infer0app.cli import build_parser
    parser = build_parser()
    users = next(a for a in parser._actions if a.dest == "command").choices["users"]
    actions = next(a for a in users._actions if a.dest == "action").choices
    for name in actions:
        for action in actions[name]._actions:
            assert action.help, f"users {name} {action.dest} has no help"
