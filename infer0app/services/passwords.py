"""Changing a password, and password reset without email (issue 17 §2).

There is no mail server, so an operator issues a reset link (`infer0 users reset-password`, or
the admin TUI) and hands it to the person: one-time, expiring, and stored only as the SHA-256
hash of its token (`i0_pr_…`, 256 bits). Setting a new password through it ends every session
of the account and every other link; it does not touch two-factor sign-in (an operator resets
that separately), so a leaked link alone does not open an account that has it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from ..store.models import PasswordReset, User, WebSession
from . import audit
from .accounts import check_password_rules, get_user_by_email, hash_password, verify_password
from .errors import NotFound, ValidationError
from .secrets_util import new_token, sha256_hex

RESET_PREFIX = "i0_pr_"
RESET_PATH = "/reset-password"
DEFAULT_RESET_TTL = 24 * 3600  # seconds: time to hand a link over by another channel
MIN_RESET_TTL, MAX_RESET_TTL = 300, 7 * 24 * 3600

WRONG_CURRENT = "Your current password is not right."


def _new_password_checked(password: str, confirm: str) -> str:
    if password != confirm:
        raise ValidationError("The two new passwords do not match.", field="password_confirm")
    check_password_rules(password)
    return hash_password(password)  # ~30 ms: callers run it outside the write lock


def change_password(store, user_id: int, current: str, new: str, confirm: str, *, keep_session_hash: str,
                    ip: str = "") -> int:
    """The signed-in user's new password, after their current one. Every other session of theirs
    ends (someone who learnt the old password is signed out); the one in `keep_session_hash`
    stays. Returns how many sessions ended. ValidationError (field "current_password",
    "password" or "password_confirm") when refused."""
    with store.read():
        stored = User.get_by_id(user_id).password_hash
    if not verify_password(current or "", stored) or not stored:
        raise ValidationError(WRONG_CURRENT, field="current_password")
    new_hash = _new_password_checked(new, confirm)
    with store.write():
        User.update(password_hash=new_hash).where(User.id == user_id).execute()
        ended = WebSession.delete().where((WebSession.user == user_id)
                                          & (WebSession.id_hash != keep_session_hash)).execute()
        PasswordReset.delete().where(PasswordReset.user == user_id).execute()
    audit.record(store, audit.user_actor(user_id), "user.password_change", f"user:{user_id}", ip=ip,
                 sessions_ended=ended)
    return ended


@dataclass(frozen=True)
class ResetLink:
    """A reset link, shown once to the operator who issued it. `expires_at`: epoch seconds."""

    email: str
    url: str
    expires_at: float


def issue_reset_link(store, email: str, base_url: str, *, actor: str, ttl: int = DEFAULT_RESET_TTL) -> ResetLink:
    """A new one-time link to set `email`'s password, valid `ttl` seconds (300 s to 7 days), at
    `base_url` (the server's public URL). Earlier unused links of the account stop working.
    NotFound for an unknown email, ValidationError for a ttl out of range."""
    if not MIN_RESET_TTL <= ttl <= MAX_RESET_TTL:
        raise ValidationError(f"A reset link lives between {MIN_RESET_TTL} seconds and {MAX_RESET_TTL // 86400} "
                              "days.", field="ttl")
    user = get_user_by_email(store, email)
    token = new_token(RESET_PREFIX)
    now = time.time()
    with store.write():
        PasswordReset.delete().where(PasswordReset.user == user.id).execute()
        PasswordReset.create(user=user.id, token_hash=sha256_hex(token), created_at=now, expires_at=now + ttl,
                             created_by=actor[:300])
    audit.record(store, actor, "user.password_reset_issue", user.email, expires_at=now + ttl)
    # The token rides in the query, which the access log never writes (front_middleware.py).
    url = base_url.rstrip("/") + RESET_PATH + "?" + urlencode({"token": token})
    return ResetLink(user.email, url, now + ttl)


def _live_reset(token: str) -> PasswordReset | None:
    if not token or not token.startswith(RESET_PREFIX) or len(token) > 200:
        return None
    row = PasswordReset.get_or_none(PasswordReset.token_hash == sha256_hex(token))
    if row is None or row.used_at is not None or row.expires_at < time.time():
        return None
    return row


def reset_link_email(store, token: str) -> str:
    """The email a live reset token is for; NotFound if it is unknown, used or expired."""
    with store.read():
        row = _live_reset(token)
        if row is None:
            raise NotFound("This reset link has expired or was already used. Ask your operator for a new one.")
        return User.get_by_id(row.user_id).email


def reset_password(store, token: str, new: str, confirm: str, *, ip: str = "") -> str:
    """Set a new password through a reset link; the link is spent and every session of the
    account ends. Returns the account's email. NotFound for a dead link, ValidationError for a
    password that does not fit the rules."""
    reset_link_email(store, token)  # a dead link is told so before the password rules
    new_hash = _new_password_checked(new, confirm)
    with store.write():
        row = _live_reset(token)  # again inside the write: two tabs cannot both spend it
        if row is None:
            raise NotFound("This reset link has expired or was already used. Ask your operator for a new one.")
        PasswordReset.update(used_at=time.time()).where(PasswordReset.id == row.id).execute()
        User.update(password_hash=new_hash).where(User.id == row.user_id).execute()
        ended = WebSession.delete().where(WebSession.user == row.user_id).execute()
        email = User.get_by_id(row.user_id).email
    audit.record(store, audit.user_actor(email), "user.password_reset", email, ip=ip, sessions_ended=ended)
    return email
