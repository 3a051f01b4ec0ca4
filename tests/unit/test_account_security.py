"""The rules of issue 17's account services, on a real SQLite file: TOTP drift and replay
(RFC 6238 §5.2), recovery codes, the sealed TOTP secret, reset link lifetimes, device labels."""

from __future__ import annotations

import pyotp
import pytest

from infer0app.services import accounts, passwords, two_factor
from infer0app.services.datadir import open_data_dir
from infer0app.services.errors import NotFound, ValidationError
from infer0app.services.sessions import device_label
from infer0app.store.models import RecoveryCode, UserTotp

KEY = b"k" * 32
T0 = 1_800_000_000.0  # a fixed moment, on a 30 s step boundary


@pytest.fixture
def store(data_dir):
    store, _vault = open_data_dir(data_dir)
    yield store
    store.close()


@pytest.fixture
def enrolled(store):
    user = accounts.create_user(store, "a@example.com", "a long password", actor="cli:test")
    enrolment = two_factor.begin_enrolment(store, KEY, user.id, issuer="infer0 (test)")
    codes = two_factor.confirm_enrolment(store, KEY, user.id, pyotp.TOTP(enrolment.secret).at(T0), now=T0)
    return user.id, enrolment.secret, codes


def test_enrolment_uri_and_sealed_secret(store):
    user = accounts.create_user(store, "a@example.com", None, actor="cli:test")
    first = two_factor.begin_enrolment(store, KEY, user.id, issuer="infer0 (test)")
    assert first.uri.startswith("otpauth://totp/") and f"secret={first.secret}" in first.uri
    assert two_factor.begin_enrolment(store, KEY, user.id, issuer="x").secret == first.secret  # same pending one
    sealed = bytes(UserTotp.get(UserTotp.user == user.id).secret_sealed)
    assert first.secret.encode() not in sealed
    assert two_factor.open_secret(KEY, user.id, sealed) == first.secret
    assert two_factor.open_secret(KEY, user.id + 1, sealed) is None  # bound to its user
    assert two_factor.open_secret(b"o" * 32, user.id, sealed) is None  # and to the keyring


def test_codes_drift_one_step_and_work_once(store, enrolled):
    uid, secret, _codes = enrolled
    totp = pyotp.TOTP(secret)
    assert two_factor.verify_second_factor(store, KEY, uid, totp.at(T0), now=T0) is None  # used to enrol
    assert two_factor.verify_second_factor(store, KEY, uid, totp.at(T0 + 30), now=T0 + 5) == "totp"  # clock ahead
    assert two_factor.verify_second_factor(store, KEY, uid, totp.at(T0 + 30), now=T0 + 35) is None  # replay
    assert two_factor.verify_second_factor(store, KEY, uid, totp.at(T0 + 60), now=T0 + 150) is None  # too old
    assert two_factor.verify_second_factor(store, KEY, uid, totp.at(T0 + 120), now=T0 + 150) == "totp"


def test_recovery_codes_are_hashed_and_single_use(store, enrolled):
    uid, _secret, codes = enrolled
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = [r.code_hash for r in RecoveryCode.select()]
    assert not any(c in h or c.replace("-", "") in h for c in codes for h in stored)
    assert two_factor.verify_second_factor(store, KEY, uid, " " + codes[0].upper().replace("-", " ")) == "recovery"
    assert two_factor.verify_second_factor(store, KEY, uid, codes[0]) is None
    assert two_factor.status(store, uid).recovery_codes_left == 9
    new = two_factor.regenerate_recovery_codes(store, uid, "a long password")
    assert two_factor.verify_second_factor(store, KEY, uid, codes[1]) is None
    assert two_factor.verify_second_factor(store, KEY, uid, new[1]) == "recovery"
    with pytest.raises(ValidationError):
        two_factor.regenerate_recovery_codes(store, uid, "wrong password")


def test_operator_reset_and_unknown_user(store, enrolled):
    uid, _secret, _codes = enrolled
    assert two_factor.operator_reset(store, "A@example.com", actor="cli:test") is True
    assert not two_factor.status(store, uid).enabled and RecoveryCode.select().count() == 0
    assert two_factor.operator_reset(store, "a@example.com", actor="cli:test") is False
    with pytest.raises(NotFound):
        two_factor.operator_reset(store, "ghost@example.com", actor="cli:test")


def test_reset_link_lifetime_bounds_and_single_use(store):
    accounts.create_user(store, "a@example.com", None, actor="cli:test")  # no password yet: the link sets one
    for ttl in (passwords.MIN_RESET_TTL - 1, passwords.MAX_RESET_TTL + 1):
        with pytest.raises(ValidationError):
            passwords.issue_reset_link(store, "a@example.com", "https://x.example", actor="cli:test", ttl=ttl)
    link = passwords.issue_reset_link(store, "a@example.com", "https://x.example/", actor="cli:test")
    token = link.url.split("token=", 1)[1]
    assert link.url.startswith("https://x.example/reset-password?token=i0_pr_")
    assert passwords.reset_password(store, token, "a long password", "a long password") == "a@example.com"
    with pytest.raises(NotFound):
        passwords.reset_password(store, token, "another password", "another password")
    assert accounts.authenticate(store, "a@example.com", "a long password") is not None


@pytest.mark.parametrize("ua,label", [
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0 Safari/537.36",
     "Chrome on Linux"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 "
     "Edg/130.0", "Edge on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
     "Safari/605.1.15", "Safari on macOS"),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36",
     "Chrome on Android"),
    ("curl/8.5.0", "curl"),
    ("", "an unknown device"),
])
def test_device_labels(ua, label):
    assert device_label(ua) == label
