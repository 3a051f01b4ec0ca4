"""Two-factor sign-in: time-based one-time passwords (TOTP, RFC 6238, through `pyotp`) and
one-time recovery codes (issue 17 §2).

- The TOTP secret (160 bits, base32) is needed to check codes, so it cannot be a hash: it is
  sealed with AES-256-GCM under a key derived (HMAC-SHA256) from the keyring's hmac_key, which
  never lives in the database, with the user id as associated data, so a sealed secret copied
  onto another account does not open. The CLI and TUI never need it (an operator reset deletes it).
- Codes: 6 digits, 30 s steps, accepted one step either side for clock drift (RFC 6238 §5.2),
  and each time step only once per account (a code seen over someone's shoulder is spent).
- Recovery codes: 10 per set, 80 random bits each ("abcd-efgh-ijkl-mn23"), shown once and
  stored as SHA-256 hashes; each works once. A new set replaces the old one.

Enrolment: `begin_enrolment` stores an unconfirmed secret; `confirm_enrolment` turns it on once
the person typed a right code from their app, and returns the first recovery codes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..store.models import RecoveryCode, User, UserTotp
from . import audit
from .accounts import get_user_by_email, verify_password
from .errors import ValidationError
from .secrets_util import sha256_hex

STEP = 30  # seconds per TOTP time step (RFC 6238 default, what authenticator apps use)
DRIFT_STEPS = 1  # steps accepted either side of now
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, lower case: 5 bits a symbol
RECOVERY_GROUPS, RECOVERY_GROUP_LEN = 4, 4  # 16 symbols = 80 bits

WRONG_CODE = "That code did not work. Type the 6 digits your app shows now, or one of your recovery codes."


# -- sealing the secret ----------------------------------------------------------------------
def _aead(hmac_key: bytes) -> AESGCM:
    return AESGCM(hmac.new(hmac_key, b"totp-secret|v1", hashlib.sha256).digest())


def _aad(user_id: int) -> bytes:
    return f"totp|user:{user_id}".encode()


def seal_secret(hmac_key: bytes, user_id: int, secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _aead(hmac_key).encrypt(nonce, secret.encode(), _aad(user_id))


def open_secret(hmac_key: bytes, user_id: int, sealed: bytes) -> str | None:
    """The secret, or None if it does not open (another keyring, another user's row)."""
    try:
        return _aead(hmac_key).decrypt(bytes(sealed[:12]), bytes(sealed[12:]), _aad(user_id)).decode()
    except (InvalidTag, ValueError):
        return None


# -- status ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    since: float | None  # epoch seconds it was turned on
    recovery_codes_left: int


def status(store, user_id: int) -> TwoFactorStatus:
    with store.read():
        row = UserTotp.get_or_none(UserTotp.user == user_id)
        left = RecoveryCode.select().where((RecoveryCode.user == user_id) & RecoveryCode.used_at.is_null()).count()
    on = row is not None and row.confirmed_at is not None
    return TwoFactorStatus(on, row.confirmed_at if on else None, left if on else 0)


# -- enrolment ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Enrolment:
    """What the setup page shows: the secret for typing in, the otpauth:// URI for the QR code."""

    secret: str
    uri: str


def begin_enrolment(store, hmac_key: bytes, user_id: int, *, issuer: str) -> Enrolment:
    """The pending secret of the user (a new one if there is none, or if the old one does not
    open); `issuer` names this server in the authenticator app. ValidationError if 2FA is on."""
    with store.read():
        user = User.get_by_id(user_id)
        row = UserTotp.get_or_none(UserTotp.user == user_id)
    if row is not None and row.confirmed_at is not None:
        raise ValidationError("Two-factor sign-in is already on.")
    secret = open_secret(hmac_key, user_id, row.secret_sealed) if row is not None else None
    if secret is None:
        secret = pyotp.random_base32()  # 32 symbols: 160 bits, RFC 4226's recommended length
        with store.write():
            UserTotp.delete().where(UserTotp.user == user_id).execute()
            UserTotp.create(user=user_id, secret_sealed=seal_secret(hmac_key, user_id, secret))
    return Enrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer))


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = "".join(ch for ch in (code or "") if not ch.isspace())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP)
    step = int(now // STEP)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _spend_step(user_id: int, step: int) -> bool:
    """Inside a write: accept `step` only if it is later than the last one accepted."""
    return bool(UserTotp.update(last_step=step).where(
        (UserTotp.user == user_id) & (UserTotp.last_step.is_null() | (UserTotp.last_step < step))).execute())


def confirm_enrolment(store, hmac_key: bytes, user_id: int, code: str, *, ip: str = "",
                      now: float | None = None) -> list[str]:
    """Turn two-factor sign-in on with the first right code from the app; returns the first
    recovery codes (shown once). ValidationError (field "code") for a wrong code or no pending secret."""
    with store.read():
        row = UserTotp.get_or_none(UserTotp.user == user_id)
    secret = open_secret(hmac_key, user_id, row.secret_sealed) if row is not None else None
    if row is None or row.confirmed_at is not None or secret is None:
        raise ValidationError("Start again: open the two-factor setup page.", field="code")
    step = _matching_step(secret, code, time.time() if now is None else now)
    if step is None:
        raise ValidationError("That code did not work. Check your phone's clock and type the code the app "
                              "shows now.", field="code")
    codes = _new_recovery_codes()
    with store.write():
        if not _spend_step(user_id, step):
            raise ValidationError("That code was already used. Wait for the next one.", field="code")
        UserTotp.update(confirmed_at=time.time()).where(UserTotp.user == user_id).execute()
        _store_recovery_codes(user_id, codes)
    audit.record(store, audit.user_actor(user_id), "user.2fa_enable", f"user:{user_id}", ip=ip)
    return codes


# -- recovery codes -------------------------------------------------------------------------
def _new_recovery_codes() -> list[str]:
    def one() -> str:
        symbols = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUPS * RECOVERY_GROUP_LEN))
        return "-".join(symbols[i:i + RECOVERY_GROUP_LEN] for i in range(0, len(symbols), RECOVERY_GROUP_LEN))
    return [one() for _ in range(RECOVERY_CODES)]


def normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _store_recovery_codes(user_id: int, codes: list[str]) -> None:
    """Inside a write: the new set replaces every earlier code of the user."""
    RecoveryCode.delete().where(RecoveryCode.user == user_id).execute()
    for code in codes:
        RecoveryCode.create(user=user_id, code_hash=sha256_hex(normalize_recovery_code(code)))


def regenerate_recovery_codes(store, user_id: int, password: str, *, ip: str = "") -> list[str]:
    """A fresh set after the password; the old codes stop working. ValidationError if the
    password is wrong or two-factor sign-in is off."""
    _check_password(store, user_id, password)
    if not status(store, user_id).enabled:
        raise ValidationError("Two-factor sign-in is off.")
    codes = _new_recovery_codes()
    with store.write():
        _store_recovery_codes(user_id, codes)
    audit.record(store, audit.user_actor(user_id), "user.2fa_recovery_codes", f"user:{user_id}", ip=ip)
    return codes


# -- sign-in --------------------------------------------------------------------------------
def verify_second_factor(store, hmac_key: bytes, user_id: int, code: str, *, now: float | None = None) -> str | None:
    """Check a sign-in's second step: 'totp' for a right, unused code from the app, 'recovery'
    for an unused recovery code (now spent), None otherwise."""
    with store.read():
        row = UserTotp.get_or_none(UserTotp.user == user_id)
    if row is None or row.confirmed_at is None:
        return None
    secret = open_secret(hmac_key, user_id, row.secret_sealed)
    step = _matching_step(secret, code, time.time() if now is None else now) if secret else None
    with store.write():
        if step is not None:
            return "totp" if _spend_step(user_id, step) else None
        normalized = normalize_recovery_code(code)
        if len(normalized) != RECOVERY_GROUPS * RECOVERY_GROUP_LEN:
            return None
        spent = RecoveryCode.update(used_at=time.time()).where(
            (RecoveryCode.user == user_id) & (RecoveryCode.code_hash == sha256_hex(normalized))
            & RecoveryCode.used_at.is_null()).execute()
    if spent:
        audit.record(store, audit.user_actor(user_id), "user.2fa_recovery_used", f"user:{user_id}")
        return "recovery"
    return None


# -- turning it off -------------------------------------------------------------------------
def _check_password(store, user_id: int, password: str) -> None:
    with store.read():
        stored = User.get_by_id(user_id).password_hash
    if not stored or not verify_password(password or "", stored):
        raise ValidationError("Your password is not right.", field="password")


def _remove(user_id: int) -> int:
    """Inside a write: the secret and every recovery code of the user; 1 if a secret was there."""
    RecoveryCode.delete().where(RecoveryCode.user == user_id).execute()
    return UserTotp.delete().where(UserTotp.user == user_id).execute()


def disable(store, user_id: int, password: str, *, ip: str = "") -> None:
    """The user turns two-factor sign-in off, after their password."""
    _check_password(store, user_id, password)
    with store.write():
        _remove(user_id)
    audit.record(store, audit.user_actor(user_id), "user.2fa_disable", f"user:{user_id}", ip=ip)


def operator_reset(store, email: str, *, actor: str) -> bool:
    """An operator removes a user's two-factor sign-in (a lost phone and lost codes): they sign in
    with their password alone, and enrol again (at once under --require-2fa). True if it was on
    or pending. NotFound for an unknown email."""
    user = get_user_by_email(store, email)
    with store.write():
        removed = _remove(user.id)
    audit.record(store, actor, "user.2fa_reset", user.email, was_set=bool(removed))
    return bool(removed)

