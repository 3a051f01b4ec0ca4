"""Running the server: health, request logs, security headers, start-up errors, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import platform
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.browser import Browser
from tests.support.processes import ROOT, cli_env, free_port, run_cli_json

PAGES = ["/", "/login", "/signup", "/providers", "/nope", "/healthz"]


async def test_healthz(browser):
    resp, body = await browser.get("/healthz")
    assert resp.status == 200 and json.loads(body) == {"status": "ok",
                                                       "checks": {"database": True, "keyring": True}}


@pytest.mark.parametrize("path", PAGES)
async def test_security_headers_on_every_page(browser, path):
    await browser.signup("h@example.com")
    resp, _ = await browser.get(path)
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_security_headers_on_redirects_too(browser):
    resp, _ = await browser.get("/providers", allow_redirects=False)  # not signed in: off to /login
    assert resp.status in (302, 303) and "/login" in resp.headers["Location"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert "Access-Control-Allow-Origin" not in resp.headers  # CORS is for /v1 only


async def test_an_error_while_answering_an_error_is_still_a_500_with_our_headers(server, monkeypatch):
    """The last resort: if turning an exception into an answer fails too, the client still gets
    a 500 in its protocol's language, with the security (and on /v1 CORS) headers."""
    import aiohttp

    from infer0app import front_middleware

    def broken(request, exc):
        raise RuntimeError("the error handler itself failed")
    monkeypatch.setattr(front_middleware, "v1_error_response", broken)
    srv = await server()
    async with aiohttp.ClientSession() as http:
        async with http.get(srv.make_url("/v1/models"), headers={"Authorization": "Bearer i0at_x"}) as resp:
            body = await resp.json()
            assert resp.status == 500 and body["error"]["type"] == "server_error"
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
            assert "the error handler itself failed" not in json.dumps(body)
        async with http.post(srv.make_url("/v1/oauth/nope"), data={"grant_type": "x"}) as resp:
            # under /v1/oauth/ the answer is RFC 6749's error JSON, even in this case
            assert resp.status == 500 and (await resp.json())["error"] == "server_error"


def test_first_start_creates_database_and_private_keyring_and_reuses_them(data_dir, serve_process):
    server = serve_process()
    assert (data_dir / "infer0.sqlite3").exists()
    keyring = data_dir / "keyring.json"
    assert keyring.stat().st_mode & 0o777 == 0o600
    first = keyring.read_bytes()
    assert "infer0 serving on" in server.logs() and str(data_dir.resolve()) in server.logs()
    assert server.stop() == 0
    serve_process()
    assert keyring.read_bytes() == first


def test_request_log_lines_have_id_and_never_secrets(data_dir, serve_process):
    run_cli_json("users", "create", "--email", "a@example.com", "--password-stdin", data_dir=data_dir,
                 input="a long enough password\n")
    server = serve_process("--log-format", "json")
    secret_query = "code=SECRETCODE123&state=zzz"
    try:
        urllib.request.urlopen(f"{server.url}/login?{secret_query}", timeout=5).read()
        data = b"email=a%40example.com&password=a+long+enough+password&csrf_token=bad"
        urllib.request.urlopen(urllib.request.Request(f"{server.url}/login", data=data), timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code == 403
        request_id = exc.headers["X-Request-Id"]
    server.stop()
    lines = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    requests = [entry for entry in lines if entry["msg"] == "request"]
    assert {(r["method"], r["path"], r["status"]) for r in requests} >= {("GET", "/login", 200),
                                                                         ("POST", "/login", 403)}
    assert all(len(r["rid"]) == 16 and r["ms"] >= 0 for r in requests)
    assert any(r["rid"] == request_id for r in requests)
    assert "SECRETCODE123" not in server.logs() and "long enough password" not in server.logs()


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or not Path("/proc/self/status").exists(),
                    reason="the allocator settings and the RSS reading are glibc / Linux ones")
async def test_a_burst_of_logins_leaves_the_server_no_bigger(data_dir, serve_process):
    """A password check takes 19 MiB (Argon2id) on one of the store's threads; the server must
    hand it back afterwards, not keep 19 MiB per thread for good (runtime_tuning.py)."""
    password = "a long enough password"
    run_cli_json("users", "create", "--email", "m@example.com", "--password-stdin", data_dir=data_dir,
                 input=password + "\n")
    server = serve_process()
    browsers = [Browser(server.url) for _ in range(8)]
    try:
        resp, _ = await browsers[0].login("m@example.com", password)  # pages and code paths warmed
        assert resp.status == 200 and browsers[0].cookie("i0_session")
        before = _rss_mb(server.proc.pid)
        answers = await asyncio.gather(*(b.login("m@example.com", password) for b in browsers))
        after = _rss_mb(server.proc.pid)
    finally:
        await asyncio.gather(*(b.close() for b in browsers))
    assert all(resp.status == 200 and b.cookie("i0_session") for (resp, _), b in zip(answers, browsers))
    assert after - before < 25, f"RSS grew {after - before:.0f} MiB over 8 concurrent logins"


def test_sigterm_shuts_down_cleanly(serve_process):
    server = serve_process()
    assert server.stop(signal.SIGTERM) == 0


def _serve_once(data_dir) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infer0app", "serve", "--data-dir", str(data_dir),
                           "--port", str(free_port())], capture_output=True, text=True, cwd=ROOT,
                          env=cli_env(), timeout=30)


def test_missing_keyring_with_secrets_refuses_to_start_and_creates_nothing(data_dir):
    run_cli_json("users", "create", "--email", "a@example.com", data_dir=data_dir)
    run_cli_json("providers", "add", "--user", "a@example.com", "--kind", "openai", "--api-key-stdin",
                 data_dir=data_dir, input="sk-abcdefghijklmnop\n")
    (data_dir / "keyring.json").unlink()
    proc = _serve_once(data_dir)
    assert proc.returncode == 1 and "keyring.json is missing" in proc.stderr
    assert "Traceback" not in proc.stderr and not (data_dir / "keyring.json").exists()


def test_damaged_keyring_refuses_to_start_and_is_left_alone(data_dir):
    run_cli_json("users", "create", "--email", "a@example.com", data_dir=data_dir)
    (data_dir / "keyring.json").write_text("garbage")
    proc = _serve_once(data_dir)
    assert proc.returncode == 1 and "damaged" in proc.stderr and str(data_dir / "keyring.json") in proc.stderr
    assert (data_dir / "keyring.json").read_text() == "garbage"


def test_bad_setting_is_one_line(data_dir):
    proc = subprocess.run([sys.executable, "-m", "infer0app", "serve", "--port", "banana"],
                          capture_output=True, text=True, cwd=ROOT, env=cli_env(), timeout=30)
    assert proc.returncode == 2 and "--port" in proc.stderr and "Traceback" not in proc.stderr
