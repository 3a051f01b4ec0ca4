"""OAuth rules as pure functions: redirect URIs (registration and matching), scopes, the bearer cache."""

from __future__ import annotations

import pytest

from infer0app.services.apps import redirect_uri_matches, validate_redirect_uri, validate_redirect_uris
from infer0app.services.errors import ValidationError

GOOD = ["https://app.example/cb", "https://app.example:8443/cb?tenant=1", "http://127.0.0.1/cb",
        "http://127.0.0.1:5000/cb", "http://[::1]:8080/cb", "http://localhost:3000/auth/callback",
        "https://xn--bcher-kva.example/cb"]
BAD = ["http://app.example/cb", "https://app.example/cb#", "https://app.example/cb#x", "https://*.app.example/cb",
       "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "file:///etc/passwd", "ftp://a.example/",
       "https://u:p@app.example/cb", "https://good@evil.example/cb", "https://app.example/a/../cb",
       "https://app.example/./cb", "https://app.example/%2e%2e/cb", "https://app.example/c\tb",
       "https://app.example/c b", "https:///cb", "//app.example/cb", "app.example/cb", "https://app.example:99999/cb",
       "https://app.example:0/cb", "http://127.0.0.1.evil.example/cb", "x" * 600]


@pytest.mark.parametrize("uri", GOOD)
def test_good_uris_register(uri):
    assert validate_redirect_uri(uri) == uri


@pytest.mark.parametrize("uri", BAD)
def test_bad_uris_are_refused(uri):
    with pytest.raises(ValidationError):
        validate_redirect_uri(uri)


def test_list_rules():
    assert validate_redirect_uris("https://a.example/cb\n\nhttps://a.example/cb\r\nhttps://b.example/cb") == [
        "https://a.example/cb", "https://b.example/cb"]
    with pytest.raises(ValidationError):
        validate_redirect_uris("")
    with pytest.raises(ValidationError):
        validate_redirect_uris([f"https://a.example/{i}" for i in range(11)])


def test_exact_match_only_for_confidential_apps():
    registered = ("https://app.example/cb", "http://127.0.0.1:8000/cb")
    assert redirect_uri_matches(registered, "https://app.example/cb", is_public=False)
    for other in ("https://app.example/cb/", "https://App.example/cb", "http://127.0.0.1:8001/cb",
                  "http://127.0.0.1/cb", "", "https://app.example/cb?x=1"):
        assert not redirect_uri_matches(registered, other, is_public=False), other


def test_public_apps_may_vary_only_the_loopback_port():
    registered = ("http://127.0.0.1/cb", "http://localhost:9000/cb?x=1", "https://app.example/cb")
    assert redirect_uri_matches(registered, "http://127.0.0.1:61000/cb", is_public=True)
    assert redirect_uri_matches(registered, "http://localhost:1234/cb?x=1", is_public=True)
    assert redirect_uri_matches(registered, "http://localhost/cb?x=1", is_public=True)
    for other in ("http://127.0.0.1:61000/cb/", "http://127.0.0.1:61000/CB", "http://[::1]:61000/cb",
                  "http://localhost:1234/cb?x=2", "https://app.example:444/cb", "http://127.0.0.1:1@evil/cb",
                  "http://127.0.0.1:61000/cb#f", "http://127.0.0.1:123456/cb", "http://127.0.0.1:65536/cb",
                  "http://127.0.0.1:99999/cb", "http://127.0.0.1:0/cb", "http://127.0.0.1:08000/cb"):
        assert not redirect_uri_matches(registered, other, is_public=True), other


def test_scope_rules():
    from infer0app.services.grants import normalize_scope
    assert normalize_scope(None) == normalize_scope("") == normalize_scope("  ") == "inference"
    assert normalize_scope("inference") == normalize_scope("inference inference") == "inference"
    assert normalize_scope("inference admin") is None and normalize_scope("openid") is None


def test_bearer_cache_entries_expire_after_their_ttl():
    from infer0app.oauth.bearer import CACHE_TTL, TokenCache
    now = [100.0]
    cache = TokenCache(clock=lambda: now[0])
    cache.put("h", "ctx")
    assert cache.get("h") == (True, "ctx")
    now[0] += CACHE_TTL
    assert cache.get("h") == (False, None)
    small = TokenCache(max_entries=2, clock=lambda: now[0])
    for key in "abc":
        small.put(key, None)
    assert small.get("c") == (True, None) and len(small) <= 2


# -- private-use URI schemes (RFC 8252 §7.1): public apps only, reverse-domain scheme ------------
NATIVE_GOOD = ["com.example.app:/oauth2redirect", "com.example.app:/oauth2redirect/example-provider",
               "io.github.some-user.notes:/cb?x=1", "com.example.app:/"]
NATIVE_BAD = ["myapp:/cb", "myapp://cb", "com.example.app://host/cb", "com.example.app:cb", "com.example.app:/cb#f",
              "com.example.app:/a/../cb", "Com.Example.App:/cb", "com..example:/cb", "com.example-:/cb",
              "com.example.app:/c b", "com.example.app:/c\nb", "com.example.app://cb", ".com.example:/cb",
              "com.example.app:/*"]


@pytest.mark.parametrize("uri", NATIVE_GOOD)
def test_private_use_uris_register_for_public_apps_only(uri):
    assert validate_redirect_uri(uri, public=True) == uri
    with pytest.raises(ValidationError, match="public"):
        validate_redirect_uri(uri)
    assert redirect_uri_matches((uri,), uri, is_public=True)
    assert not redirect_uri_matches((uri,), uri + "x", is_public=True)


@pytest.mark.parametrize("uri", NATIVE_BAD + BAD)
def test_bad_uris_are_refused_for_public_apps_too(uri):
    with pytest.raises(ValidationError):
        validate_redirect_uri(uri, public=True)
