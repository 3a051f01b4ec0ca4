"""Schemathesis against the real `infer0 serve`: every operation of /openapi.json, authenticated,
a fixed seed and bounded examples, and not one 5xx (issue 12 §4: four minutes of schemathesis
once found 8,507 server errors).

The access token comes from the real OAuth flow (sign-in, consent, code exchange) for a user
whose connection is the in-process sandbox, so chat calls are answered end to end without a
network. Schemathesis runs as its CLI (`schemathesis run`), the way an operator or CI would,
with its OpenAPI-aware auth: `bearerAuth` gets the access token, `clientSecretBasic` the app's
credentials. Checks: `not_a_server_error` (no 5xx), and the documented status codes, content
types and response schemas, so /openapi.json stays true to what the server answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.processes import ServerProcess
from tests.support.served_flow import CALLBACK, approved_code

SEED = 20240612
MAX_EXAMPLES = 150  # per operation and phase: about a minute per run on two cores
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
CONFIG = """
[auth.openapi.bearerAuth]
bearer = "${INFER0_FUZZ_TOKEN}"

[auth.openapi.clientSecretBasic]
username = "${INFER0_FUZZ_CLIENT_ID}"
password = "${INFER0_FUZZ_CLIENT_SECRET}"
"""


async def _access_token(server: ServerProcess, data_dir: Path) -> tuple[dict, dict]:
    """A user with a sandbox connection, an app, and tokens through the real authorization code flow."""
    app, code = await approved_code(server.url, data_dir, name="Fuzz")
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/v1/oauth/token", data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                "client_id": app["client_id"], "client_secret": app["client_secret"]}) as resp:
            tokens = await resp.json()
            assert resp.status == 200, tokens
    return app, tokens


def schemathesis_run(url: str, config: Path, env: dict, report: Path, selection=()) -> subprocess.CompletedProcess:
    cli = Path(sys.executable).with_name("schemathesis")
    argv = [str(cli), "--config-file", str(config), "run", f"{url}/openapi.json",
            "--checks", CHECKS, "--seed", str(SEED), "--generation-database", "none",
            "--max-examples", str(MAX_EXAMPLES), "--phases", "examples,coverage,fuzzing",
            "--workers", "1", "--request-timeout", "20", "--no-shrink",
            "--no-color", "--report", "junit", "--report-junit-path", str(report), *selection]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, cwd=config.parent)


@pytest.mark.parametrize("selection", [
    pytest.param(("--exclude-tag", "OAuth"), id="api"),
    pytest.param(("--include-tag", "OAuth"), id="oauth"),
])
async def test_schemathesis_finds_no_server_errors(data_dir, tmp_path, selection):
    """Every operation (split in two runs by tag: the bearer API and health, and the OAuth
    endpoints) with every phase but stateful; exit status 0 means no check failed."""
    server = ServerProcess(data_dir, "--log-level", "warning")
    try:
        app, tokens = await _access_token(server, data_dir)
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG)
        env = {**os.environ, "INFER0_FUZZ_TOKEN": tokens["access_token"],
               "INFER0_FUZZ_CLIENT_ID": app["client_id"], "INFER0_FUZZ_CLIENT_SECRET": app["client_secret"]}
        proc = schemathesis_run(server.url, config, env, tmp_path / "junit.xml", selection)
        logs = server.logs()
    finally:
        server.stop()
    output = proc.stdout + proc.stderr
    (tmp_path / "schemathesis.txt").write_text(output)  # the whole report, kept with the test's files
    (tmp_path / "server.log").write_text(logs)
    assert "Test cases:" in output and "API Operations:" in output, output[-3000:]
    assert proc.returncode == 0, output[-12000:]
    assert "unhandled error" not in logs, logs[-6000:]


if __name__ == "__main__":  # pragma: no cover - for a longer run by hand: python -m tests.fuzz.test_schemathesis
    pytest.main([__file__, "-q", "-p", "no:cacheprovider"])
