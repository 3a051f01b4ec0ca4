"""The consent page's account of an app: a logo only from https, links only to web URLs."""

from __future__ import annotations

import dataclasses

from infer0app.services.apps import AppView
from infer0app.web.app_details import app_details

BASE = AppView(1, "i0_ci_x", "Acme notes app", "https://acme.example", ("https://acme.example/cb",), False, False,
               2, "dev@acme.example", 1_700_000_000.0)


def registered(**kw) -> AppView:
    """BASE with RFC 7591 metadata, as dynamic registration (m0011) stores it."""
    return dataclasses.replace(BASE, **kw)


def test_without_metadata_initials_and_unverified():
    d = app_details(BASE)
    assert (d.logo_uri, d.initials, d.verified, d.homepage) == ("", "AN", False, "https://acme.example")
    assert (d.developer_email, d.created_at) == ("dev@acme.example", 1_700_000_000.0)


def test_logo_only_from_an_https_url():
    assert app_details(registered(logo_uri="https://cdn.acme.example/logo.png")).logo_uri == \
        "https://cdn.acme.example/logo.png"
    for bad in ("http://acme.example/logo.png", "data:image/png;base64,AAAA", "javascript:alert(1)",
                "https://user@acme.example/x.png", "https:///nohost.png", 'https://a.example/"onerror=x'):
        assert app_details(registered(logo_uri=bad)).logo_uri == "", bad


def test_policy_terms_and_verified_mark():
    d = app_details(registered(policy_uri="https://acme.example/privacy", tos_uri="javascript:x", verified=True))
    assert (d.policy_uri, d.tos_uri, d.verified) == ("https://acme.example/privacy", "", True)
