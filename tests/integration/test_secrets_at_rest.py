"""A stored provider key appears nowhere in plaintext: database, WAL, or the server's logs."""

from __future__ import annotations

import re

from tests.support.browser import Browser
from tests.support.processes import run_cli_json

WEB_KEY = "sk-web-PLAINTEXTCANARY-7f3a9c1e5b"
CLI_KEY = "sk-cli-PLAINTEXTCANARY-2d8e4b6a0c"


async def test_no_plaintext_key_in_db_wal_or_logs(data_dir, serve_process):
    run_cli_json("users", "create", "--email", "cli@example.com", data_dir=data_dir)
    server = serve_process("--log-level", "debug")
    run_cli_json("providers", "add", "--user", "cli@example.com", "--kind", "openai", "--api-key-stdin",
                 data_dir=data_dir, input=CLI_KEY + "\n")
    b = Browser(server.url)
    try:
        await b.signup("web@example.com")
        resp, html = await b.submit("/providers", "/providers",
                                    {"kind": "openai", "name": "w", "api_key": WEB_KEY})
        assert resp.status == 200 and WEB_KEY not in html
        cid = re.findall(r'id="conn-(\d+)"', html)[0]
        _, edit = await b.get(f"/providers/{cid}")
        assert WEB_KEY not in edit
    finally:
        await b.close()
    files = [data_dir / "infer0.sqlite3", data_dir / "infer0.sqlite3-wal"]
    assert files[1].exists(), "WAL mode should leave a -wal file while the server runs"
    blobs = b"".join(f.read_bytes() for f in files)
    server.stop()
    blobs += (data_dir / "infer0.sqlite3").read_bytes() + server.logs().encode()
    for key in (WEB_KEY, CLI_KEY):
        assert key.encode() not in blobs
        assert b"PLAINTEXTCANARY" not in blobs
