"""`infer0 apps create|list|disable|enable`."""

from __future__ import annotations

import json

from tests.support.processes import run_cli, run_cli_json


def make_owner(data_dir):
    run_cli_json("users", "create", "--email", "dev@example.com", data_dir=data_dir)


def test_create_confidential_and_public(data_dir):
    make_owner(data_dir)
    conf = run_cli_json("apps", "create", "--owner", "dev@example.com", "--name", "Server App",
                        "--redirect-uri", "https://a.example/cb", "--redirect-uri", "https://a.example/cb2",
                        data_dir=data_dir)
    assert set(conf) == {"client_id", "client_secret"}
    assert conf["client_id"].startswith("i0_ci_") and conf["client_secret"].startswith("i0_cs_")
    pub = run_cli_json("apps", "create", "--owner", "dev@example.com", "--name", "CLI App", "--public",
                       "--redirect-uri", "http://127.0.0.1/cb", data_dir=data_dir)
    assert set(pub) == {"client_id"}
    listed = run_cli_json("apps", "list", data_dir=data_dir)
    assert [a["name"] for a in listed] == ["Server App", "CLI App"]
    assert listed[0]["redirect_uris"] == ["https://a.example/cb", "https://a.example/cb2"]
    assert listed[0]["type"] == "confidential" and listed[1]["type"] == "public"
    assert conf["client_secret"] not in json.dumps(listed)


def test_bad_input_exits_2_with_one_line(data_dir):
    make_owner(data_dir)
    proc = run_cli("apps", "create", "--owner", "dev@example.com", "--name", "X", "--redirect-uri",
                   "http://evil.example/cb", data_dir=data_dir)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "loopback" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("apps", "create", "--owner", "nobody@example.com", "--name", "X", "--redirect-uri",
                   "https://a.example/cb", data_dir=data_dir)
    assert proc.returncode == 1 and "nobody@example.com" in proc.stderr


def test_disable_and_enable(data_dir):
    make_owner(data_dir)
    app = run_cli_json("apps", "create", "--owner", "dev@example.com", "--name", "X", "--redirect-uri",
                       "https://a.example/cb", data_dir=data_dir)
    out = run_cli_json("apps", "disable", "--client-id", app["client_id"], data_dir=data_dir)
    assert out == {"client_id": app["client_id"], "disabled": True}
    assert run_cli_json("apps", "list", data_dir=data_dir)[0]["disabled"] is True
    assert run_cli_json("apps", "enable", "--client-id", app["client_id"], data_dir=data_dir)["disabled"] is False
    proc = run_cli("apps", "disable", "--client-id", "i0_ci_nope", data_dir=data_dir)
    assert proc.returncode == 1 and "i0_ci_nope" in proc.stderr


def test_rotate_secret_with_overlap_and_verify(data_dir):
    make_owner(data_dir)
    app = run_cli_json("apps", "create", "--owner", "dev@example.com", "--name", "X", "--redirect-uri",
                       "https://a.example/cb", data_dir=data_dir)
    out = run_cli_json("apps", "rotate-secret", "--client-id", app["client_id"], "--overlap", "3600",
                       data_dir=data_dir)
    assert out["client_id"] == app["client_id"] and out["client_secret"].startswith("i0_cs_")
    assert out["client_secret"] != app["client_secret"] and out["previous_secret_expires_at"]
    proc = run_cli("apps", "rotate-secret", "--client-id", app["client_id"], "--overlap", str(8 * 86400),
                   data_dir=data_dir)
    assert proc.returncode == 2 and "7 days" in proc.stderr
    listed = run_cli_json("apps", "list", data_dir=data_dir)[0]
    assert (listed["origin"], listed["verified"]) == ("dashboard", False)
    assert out["client_secret"] not in json.dumps(listed)
    assert run_cli_json("apps", "verify", "--client-id", app["client_id"], data_dir=data_dir)["verified"] is True
    assert run_cli_json("apps", "list", data_dir=data_dir)[0]["verified"] is True
    assert run_cli_json("apps", "unverify", "--client-id", app["client_id"], data_dir=data_dir)["verified"] is False


def test_create_public_app_with_a_private_use_redirect(data_dir):
    make_owner(data_dir)
    pub = run_cli_json("apps", "create", "--owner", "dev@example.com", "--name", "Phone", "--public",
                       "--redirect-uri", "com.example.phone:/cb", data_dir=data_dir)
    assert run_cli_json("apps", "list", data_dir=data_dir)[0]["redirect_uris"] == ["com.example.phone:/cb"]
    assert pub["client_id"]
    proc = run_cli("apps", "create", "--owner", "dev@example.com", "--name", "Srv", "--redirect-uri",
                   "com.example.phone:/cb", data_dir=data_dir)
    assert proc.returncode == 2 and "public (native) apps only" in proc.stderr
