"""RFC 8628 device authorizations: the codes, the user's decision, and the polling state.

- A device code (`i0_dc_…`, 256 bits) and a user code (8 letters of RFC 8628 §6.1's
  BCDFGHJKLMNPQRSTVWXZ, shown XXXX-XXXX: no vowels, no look-alike digits) are stored only as
  SHA-256 hashes; the user code is hashed in its normal form (upper case, no dash or spaces),
  so whatever case and dashes the user types finds it.
- The user's approval records the grant like the consent page does (services.grants.approve)
  and keeps the hash of the authorization code that creates; the polling client redeems that
  code, once (services.grants.redeem_code), so a device code gives tokens at most once.
- Each poll is one IMMEDIATE transaction (DESIGN §3.4): a poll sooner than `interval` seconds
  after the previous one is `slow_down` and adds 5 s to the interval (RFC 8628 §3.5).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Callable

import peewee as pw

from ..store.models import DeviceAuthorization, OAuthApp
from . import audit
from .errors import ServiceError
from .secrets_util import new_token, sha256_hex

DEVICE_CODE_PREFIX = "i0_dc_"
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 §6.1: 20^8 ≈ 2^34.6 codes
USER_CODE_LENGTH = 8
EXPIRES_IN = 900  # seconds a device authorization waits for the user
INTERVAL = 5  # seconds between polls (RFC 8628 §3.2's default)
SLOW_DOWN_STEP = 5  # RFC 8628 §3.5


class DeviceCodeGone(ServiceError):
    """The user code expired, was already decided, or never existed."""


@dataclass(frozen=True)
class PendingDevice:
    """A device authorization waiting for a user's decision (what /device shows)."""

    id: int
    client_id: str
    scope: str
    expires_at: float


@dataclass(frozen=True)
class PollResult:
    """`status`: "invalid" (unknown code, or another client's), "expired", "denied", "slow_down",
    "pending" or "approved" (then `code_hash` is the authorization code to redeem, for `user_id`'s
    grant with `scope`). `interval`: seconds the client must now wait between polls."""

    status: str
    code_hash: str | None = None
    interval: int = INTERVAL
    user_id: int | None = None
    scope: str = ""


def new_device_code() -> str:
    return new_token(DEVICE_CODE_PREFIX)


def new_user_code() -> str:
    """XXXX-XXXX from USER_CODE_ALPHABET, from the system's CSPRNG."""
    letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{letters[:4]}-{letters[4:]}"


def normalize_user_code(text: str) -> str:
    """The code's normal form (upper case, without dashes and spaces), or "" if it cannot be one."""
    code = "".join(ch for ch in (text or "")[:40].upper() if ch not in "- \t")
    if len(code) != USER_CODE_LENGTH or any(ch not in USER_CODE_ALPHABET for ch in code):
        return ""
    return code


def create(store, *, app_id: int, scope: str, device_code: str, user_code: str,
           expires_in: int = EXPIRES_IN, interval: int = INTERVAL) -> bool:
    """Store a new device authorization; False if the user code is taken by another (draw again)."""
    now = time.time()
    try:
        with store.write():
            DeviceAuthorization.create(device_code_hash=sha256_hex(device_code),
                                       user_code_hash=sha256_hex(normalize_user_code(user_code)), app=app_id,
                                       scope=scope, status="pending", interval=interval, created_at=now,
                                       expires_at=now + expires_in)
    except pw.IntegrityError:
        return False
    return True


def find_pending(store, user_code: str) -> PendingDevice | None:
    """The live, undecided authorization with this user code (any case, dashes optional), or None."""
    code = normalize_user_code(user_code)
    if not code:
        return None
    with store.read():
        row = (DeviceAuthorization.select(DeviceAuthorization.id, OAuthApp.client_id, DeviceAuthorization.scope,
                                          DeviceAuthorization.expires_at)
               .join(OAuthApp, on=(DeviceAuthorization.app == OAuthApp.id))
               .where((DeviceAuthorization.user_code_hash == sha256_hex(code))
                      & (DeviceAuthorization.status == "pending") & (DeviceAuthorization.expires_at > time.time())
                      & ~OAuthApp.disabled)
               .dicts().first())
    return PendingDevice(row["id"], row["client_id"], row["scope"], row["expires_at"]) if row else None


def _claim(device_id: int, user_id: int, status: str) -> None:
    claimed = (DeviceAuthorization.update(status=status, user=user_id)
               .where((DeviceAuthorization.id == device_id) & (DeviceAuthorization.status == "pending")
                      & (DeviceAuthorization.expires_at > time.time())).execute())
    if claimed != 1:
        raise DeviceCodeGone("This code has expired or was already used. Start again on your device.")


def approve(store, device_id: int, *, user_id: int, make_code: Callable[[], str]) -> None:
    """The user approved: `make_code()` (services.grants.approve, run in this transaction) records
    the grant and returns a code, whose hash the device's next poll redeems. DeviceCodeGone if
    the authorization is no longer pending (then nothing is written)."""
    with store.write():
        _claim(device_id, user_id, "approved")
        code = make_code()
        DeviceAuthorization.update(code_hash=sha256_hex(code)).where(DeviceAuthorization.id == device_id).execute()


def deny(store, device_id: int, *, user_id: int) -> None:
    """The user said no: the device's next poll gets access_denied. DeviceCodeGone as approve."""
    with store.write():
        _claim(device_id, user_id, "denied")
    audit.record(store, audit.user_actor(user_id), "device.deny", f"device:{device_id}")


def poll(store, device_code: str, client_id: str, now: float | None = None) -> PollResult:
    """One token-endpoint poll (RFC 8628 §3.4-3.5) by `client_id`, atomically."""
    now = time.time() if now is None else now
    if not device_code or len(device_code) > 200:
        return PollResult("invalid")
    with store.write():
        row = (DeviceAuthorization.select(DeviceAuthorization, OAuthApp.client_id)
               .join(OAuthApp, on=(DeviceAuthorization.app == OAuthApp.id))
               .where(DeviceAuthorization.device_code_hash == sha256_hex(device_code)).dicts().first())
        if row is None or row["client_id"] != client_id:
            return PollResult("invalid")
        if row["expires_at"] <= now:
            return PollResult("expired")
        if row["status"] == "denied":
            return PollResult("denied")
        if row["status"] == "approved":
            return PollResult("approved", row["code_hash"], row["interval"], row["user"], row["scope"])
        interval = row["interval"]
        too_soon = row["last_poll_at"] is not None and now - row["last_poll_at"] < interval
        if too_soon:
            interval += SLOW_DOWN_STEP
        DeviceAuthorization.update(last_poll_at=now, interval=interval).where(
            DeviceAuthorization.id == row["id"]).execute()
    return PollResult("slow_down" if too_soon else "pending", interval=interval)


def purge_expired(cutoff: float) -> int:
    """Delete authorizations that expired before `cutoff`. Call inside `store.write()`."""
    return DeviceAuthorization.delete().where(DeviceAuthorization.expires_at < cutoff).execute()
