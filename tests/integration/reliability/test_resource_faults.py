"""Resource faults under a running `infer0 serve`: disk full, database read-only, keyring unreadable.

The database lives on a small ext4 file system loop-mounted inside the test (we run as
root; the file system is real, so SQLite meets a real ENOSPC / EPERM from the kernel, not an
injected error code). Read-only is `chattr +i` on the database and its WAL: root ignores
permission bits, and a read-only remount is refused while the server holds the files open.

Each fault must give a clear answer in each protocol's language (503 with a reason on
/healthz, RFC 6749 JSON `temporarily_unavailable` on the OAuth endpoints, the friendly page
with the reason on the dashboard), change nothing, and clear by itself once the fault is gone.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import aiohttp
import pytest

from infer0app.paths import db_path, keyring_path
from infer0app.services import accounts
from infer0app.services.datadir import open_data_dir
from tests.support.browser import Browser
from tests.support.crash_checks import integrity, usage_rows
from tests.support.oauth import basic
from tests.support.processes import ServerProcess, free_port, run_cli
from tests.support.seed import seed_grant

PASSWORD = "correct horse battery"
DASH = "dash@example.com"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a file system needs root (CI runs as root)")


@pytest.fixture
def small_disk(tmp_path):
    """A 32 MB ext4 file system, loop-mounted at tmp_path/data (the data dir); the server's log
    stays outside it. Unmounted (and its loop device released) afterwards."""
    image, mount = tmp_path / "disk.img", tmp_path / "data"
    with open(image, "wb") as fh:
        fh.truncate(32 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    mount.mkdir()
    subprocess.run(["mount", "-o", "loop", str(image), str(mount)], check=True)
    (mount / "lost+found").rmdir()
    try:
        yield mount
    finally:
        for name in ("infer0.sqlite3", "infer0.sqlite3-wal"):
            subprocess.run(["chattr", "-i", str(mount / name)], capture_output=True)
        subprocess.run(["umount", str(mount)], check=True)


def seeded(data_dir):
    store, vault = open_data_dir(data_dir)
    try:
        grant = seed_grant(store, vault, kind="sandbox")
        accounts.create_user(store, DASH, PASSWORD, actor="cli:test")
    finally:
        store.close()
    return grant


def health(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_health(url: str, status: int) -> dict:
    """The /healthz body once it answers `status` (the heartbeat writes every second)."""
    deadline = time.monotonic() + 20
    while True:
        code, body = health(url)
        if code == status:
            return body
        assert time.monotonic() < deadline, f"/healthz still {code} {body}, expected {status}"
        time.sleep(0.1)


async def refresh(url: str, grant, token: str):
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/v1/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token},
                             headers={"Authorization": basic(grant.client_id, grant.client_secret)}) as resp:
            return resp.status, resp.headers, await resp.json(content_type=None)


async def chat(url: str, token: str) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/v1/chat/completions", headers={"Authorization": f"Bearer {token}"},
                             json={"model": "x", "messages": [{"role": "user", "content": "hi"}]}) as resp:
            await resp.read()
            return resp.status


async def add_connection(browser: Browser, name: str):
    return await browser.submit("/providers", "/providers", {"kind": "openai", "name": name, "base_url": "",
                                                             "api_key": "sk-fault-0123456789abcdefWXYZ",
                                                             "model": ""}, allow_redirects=False)


async def assert_writes_refused_clearly(server, grant, browser, reason_words: tuple[str, ...]):
    body = wait_health(server.url, 503)
    assert body["checks"] == {"database": False, "keyring": True}
    assert any(w in body["reasons"]["database"] for w in reason_words), body
    # The dashboard: the friendly page says why and that nothing changed; no 500, no traceback.
    resp, html = await add_connection(browser, "during-fault")
    assert resp.status == 503 and resp.headers["Retry-After"], (resp.status, html[:300])
    assert "cannot save changes right now" in html and "Nothing was" in html and "Traceback" not in html
    assert any(w in html for w in reason_words)
    # OAuth: RFC 6749 JSON, 503, Retry-After; the refresh token is not spent.
    status, headers, answer = await refresh(server.url, grant, grant.refresh_token)
    assert status == 503 and headers["Retry-After"], answer
    assert answer["error"] == "temporarily_unavailable" and any(w in answer["error_description"] for w in reason_words)
    # The API keeps answering calls that need no write: usage waits in memory for the disk.
    assert await chat(server.url, grant.access_token) == 200


async def assert_recovered(server, grant, browser, data_dir):
    wait_health(server.url, 200)
    status, _, answer = await refresh(server.url, grant, grant.refresh_token)
    assert status == 200, answer  # the refused attempt spent nothing
    resp, _ = await add_connection(browser, "after-fault")
    assert resp.status == 303
    deadline = time.monotonic() + 20
    while usage_rows(db_path(data_dir), grant.grant_id) < 1:  # the buffered usage is written now
        assert time.monotonic() < deadline, "usage answered during the fault never reached the database"
        time.sleep(0.1)


def fill(directory) -> None:
    """Fill the file system to the last byte (root may use ext4's reserved blocks too)."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)


async def test_disk_full_is_reported_and_refused_cleanly_and_clears_by_itself(small_disk):
    grant = seeded(small_disk)
    server = ServerProcess(small_disk)
    browser = Browser(server.url)
    try:
        assert health(server.url)[0] == 200
        assert (await browser.login(DASH, PASSWORD, allow_redirects=False))[0].status == 303
        conn = sqlite3.connect(str(db_path(small_disk)))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL must grow with the next commit
        conn.close()
        fill(small_disk)
        await assert_writes_refused_clearly(server, grant, browser, ("disk full",))
        (small_disk / "filler").unlink()
        await assert_recovered(server, grant, browser, small_disk)
    finally:
        await browser.close()
        server.stop()
    assert integrity(db_path(small_disk)) == "ok"
    assert "Traceback" not in server.logs()


async def test_read_only_database_is_reported_and_refused_cleanly_and_clears_by_itself(small_disk):
    grant = seeded(small_disk)
    server = ServerProcess(small_disk)
    browser = Browser(server.url)
    files = [str(db_path(small_disk)), f"{db_path(small_disk)}-wal"]
    try:
        assert (await browser.login(DASH, PASSWORD, allow_redirects=False))[0].status == 303
        subprocess.run(["chattr", "+i", *files], check=True)
        await assert_writes_refused_clearly(server, grant, browser, ("read-only", "cannot be written"))
        subprocess.run(["chattr", "-i", *files], check=True)
        await assert_recovered(server, grant, browser, small_disk)
    finally:
        subprocess.run(["chattr", "-i", *files], capture_output=True)
        await browser.close()
        server.stop()
    assert integrity(db_path(small_disk)) == "ok"


async def test_keyring_damaged_or_missing_is_reported_keeps_serving_and_clears(tmp_path):
    data_dir = tmp_path / "data"
    grant = seeded(data_dir)
    ring = keyring_path(data_dir)
    good = ring.read_bytes()
    server = ServerProcess(data_dir)
    try:
        for fault, words in (("damaged", "unreadable or damaged"), ("missing", "missing")):
            if fault == "damaged":
                ring.write_bytes(b"{not json")
            else:
                ring.unlink()
            body = wait_health(server.url, 503)
            assert body["checks"] == {"database": True, "keyring": False}
            assert words in body["reasons"]["keyring"] and str(ring) not in json.dumps(body)
            assert await chat(server.url, grant.access_token) == 200  # the loaded keys still serve
            ring.write_bytes(good)
            os.chmod(ring, 0o600)
            wait_health(server.url, 200)
        ring.write_bytes(b"{not json")
    finally:
        server.stop()
    # A server cannot start on a damaged keyring: it says which file and why, and touches nothing.
    before = db_path(data_dir).read_bytes()
    proc = run_cli("serve", "--port", str(free_port()), data_dir=data_dir, timeout=30)
    assert proc.returncode != 0 and str(ring) in proc.stderr and "damaged" in proc.stderr, proc.stderr[-500:]
    assert db_path(data_dir).read_bytes() == before
