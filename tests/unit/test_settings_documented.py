"""Every setting is documented: in its field, in `infer0 serve --help`, and in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from infer0app.cli import build_parser
from infer0app.config import SettingsError, env_name, flag_name, load_settings, setting_fields

README = Path(__file__).resolve().parents[2] / "README.md"


def serve_help() -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices["serve"].format_help()


@pytest.mark.parametrize("f", list(setting_fields()), ids=lambda f: f.name)
def test_setting_is_documented_everywhere(f):
    assert len(f.metadata.get("help", "")) > 15, f"{f.name} has no real help text"
    help_text = serve_help()
    assert flag_name(f.name) in help_text and env_name(f.name) in help_text
    readme = README.read_text()
    assert f"`{flag_name(f.name)}`" in readme and f"`{env_name(f.name)}`" in readme, \
        f"README's settings table lacks {f.name}"


def test_flags_beat_environment_beat_defaults():
    env = {"INFER0_PORT": "9000", "INFER0_SIGNUP": "closed"}
    s = load_settings({"port": "9100"}, environ=env)
    assert s.port == 9100 and s.signup == "closed" and s.host == "127.0.0.1"


@pytest.mark.parametrize("flags,message", [
    ({"port": "http"}, "--port"),
    ({"port": "70000"}, "--port"),
    ({"signup": "maybe"}, "--signup"),
    ({"public_url": "ftp://x"}, "--public-url"),
    ({"session_lifetime": "-1"}, "--session-lifetime"),
])
def test_bad_settings_name_the_setting(flags, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(flags, environ={})


def test_issuer_follows_public_url():
    assert load_settings({"public_url": "https://ai.example.com/"}, environ={}).issuer == "https://ai.example.com"
    assert load_settings({"port": "8181"}, environ={}).issuer == "http://127.0.0.1:8181"
