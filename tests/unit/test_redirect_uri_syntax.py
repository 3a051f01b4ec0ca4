"""Redirect URIs at registration: only RFC 3986 URIs of the shape we allow (issue 12 §5).

A corpus of spellings against the registration function (`validate_redirect_uris`, which the
dashboard form, the admin TUI and `infer0 apps create` all call), and one through the CLI."""

from __future__ import annotations

import pytest

from infer0app.services.apps import validate_redirect_uris
from infer0app.services.errors import ValidationError
from tests.support.processes import run_cli, run_cli_json

GOOD = [
    "https://app.example/cb",
    "https://app.example",
    "https://app.example/",
    "https://app.example:8443/cb?tenant=1",
    "https://app.example/cb?a=1&b=2;c=3",
    "https://app.example/cb?next=/x?y",
    "https://app.example/a%20b/cb",
    "https://app.example/%7Euser/cb",
    "https://app.example/cb/(v2)/x!$'+,;=:@~",
    "https://sub-domain.app.example/cb",
    "https://xn--bcher-kva.example/cb",
    "https://APP.example/CB",
    "https://192.0.2.10/cb",
    "https://[2001:db8::1]:8443/cb",
    "https://app.example:65535/cb",
    "https://app.example:1/cb",
    "http://127.0.0.1/cb",
    "http://127.0.0.1:5000/cb",
    "http://[::1]:8080/cb",
    "http://localhost:3000/auth/callback",
    "  https://app.example/pasted  ",
]

BAD = [
    # characters outside RFC 3986
    "https://app.example/c\\b", "https://app.example\\@evil.example/cb", 'https://app.example/"cb"',
    "https://app.example/<script>", "https://app.example/cb>", "https://app.example/c b", "https://app.example/c\tb",
    "https://app.example/c\x00b", "https://app.example/c\x7fb", "https://app.example/c\u00e9b",
    "https://app.\u00e9xample/cb", "https://app.example/{cb}", "https://app.example/c|b", "https://app.example/c^b",
    "https://app.example/c`b", "https://app.example/%", "https://app.example/%zz", "https://app.example/%4",
    "https://app.example/cb?x=%G0", "https://app.example/cb?x=[1]",
    # host and port
    "https:///cb", "https://:443/cb", "https://app.example:/cb", "https://app.example:0/cb",
    "https://app.example:65536/cb", "https://app.example:99999/cb", "https://app.example:080/cb",
    "https://app.example:-1/cb", "https://app.example:8o/cb", "https://app.example:1:2/cb",
    "https://app..example/cb", "https://-app.example/cb", "https://app_example.test/cb", "https://app.example./cb",
    "https://%61pp.example/cb", "https://[::1/cb", "https://[not-v6]/cb", "https://300.1.1.1/cb",
    "http://127.0.0.1:0/cb", "http://127.0.0.1:65536/cb", "http://localhost:100000/cb", "http://[::1]:0/cb",
    # userinfo, fragment, scheme, shape
    "https://u:p@app.example/cb", "https://good@evil.example/cb", "https://app.example/cb#", "https://app.example/cb#x",
    "http://app.example/cb", "http://127.0.0.1.evil.example/cb", "ftp://app.example/cb", "javascript:alert(1)",
    "data:text/html,x", "file:///etc/passwd", "//app.example/cb", "app.example/cb", "https:app.example/cb",
    "https://*.app.example/cb", "https://app.example/a/../cb", "https://app.example/%2e%2e/cb", "x" * 600,
]


@pytest.mark.parametrize("uri", GOOD)
def test_rfc3986_uris_of_the_allowed_shape_register(uri):
    assert validate_redirect_uris([uri]) == [uri.strip()]


@pytest.mark.parametrize("uri", BAD)
def test_everything_else_is_refused_with_a_reason(uri):
    with pytest.raises(ValidationError) as info:
        validate_redirect_uris([uri])
    assert info.value.field == "redirect_uris" and "Redirect URI" in info.value.message


def test_the_cli_refuses_what_a_browser_would_not_follow(data_dir):
    run_cli_json("users", "create", "--email", "dev@example.com", data_dir=data_dir)
    for uri in ('https://app.example/"><b>', "https://app.example\\evil.example/cb", "http://127.0.0.1:70000/cb"):
        proc = run_cli("apps", "create", "--owner", "dev@example.com", "--name", "X", "--redirect-uri", uri,
                       data_dir=data_dir)
        assert proc.returncode == 2 and proc.stdout == "", (uri, proc.stdout)
        assert "Redirect URI" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert run_cli_json("apps", "list", data_dir=data_dir) == []
