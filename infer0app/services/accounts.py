"""Users, passwords and dashboard sessions.

Callers get `UserView`s and `SessionInfo`s (frozen, built here while the database is open),
never User rows; the password hash never leaves this module."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, replace

from cryptography.exceptions import InvalidKey
from peewee import JOIN
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from ..store.models import User, UserTotp, WebSession
from . import audit
from .errors import Conflict, NotFound, ValidationError
from .secrets_util import new_token, sha256_hex
from .visible_text import has_unseen

# OWASP Password Storage Cheat Sheet, Argon2id: m=19 MiB, t=2, p=1.
ARGON2_MEMORY_KIB = 19456
ARGON2_ITERATIONS = 2
ARGON2_LANES = 1

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024


def hash_password(password: str) -> str:
    kdf = Argon2id(salt=os.urandom(16), length=32, iterations=ARGON2_ITERATIONS,
                   lanes=ARGON2_LANES, memory_cost=ARGON2_MEMORY_KIB)
    return kdf.derive_phc_encoded(password.encode())


# A hash of a random password, verified against when the account does not exist, so a
# sign-in for an unknown email costs the same time as a wrong password.
_DUMMY_HASH: list[str] = []


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(new_token()))
        stored = _DUMMY_HASH[0]
        real = False
    else:
        real = True
    try:
        Argon2id.verify_phc_encoded(password.encode(), stored)
        return real
    except (InvalidKey, ValueError):
        return False


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if (len(email) > 254 or not EMAIL_RE.match(email)
            or has_unseen(email)):  # control characters (NUL...) and look-alikes (visible_text.py)
        raise ValidationError("Enter a valid email address, like name@example.com.", field="email")
    return email


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(f"Use a password of at least {MIN_PASSWORD} characters.", field="password")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"Use a password of at most {MAX_PASSWORD} characters.", field="password")


@dataclass(frozen=True)
class UserView:
    """An account as pages, the CLI and the TUI see it. Times are epoch seconds."""

    id: int
    email: str
    disabled: bool
    created_at: float
    last_login_at: float | None


def _view(user: User) -> UserView:
    return UserView(user.id, user.email, bool(user.disabled), user.created_at, user.last_login_at)


def create_user(store, email: str, password: str | None, *, actor: str) -> UserView:
    email = normalize_email(email)
    if password is not None:
        check_password_rules(password)
        pw_hash = hash_password(password)  # outside the write lock: it takes ~30 ms
    else:
        pw_hash = None
    with store.write():
        if User.select().where(User.email == email).exists():
            raise Conflict("An account with that email already exists.", field="email")
        user = User.create(email=email, password_hash=pw_hash)
    audit.record(store, actor, "user.create", email)
    return _view(user)


def get_user_by_email(store, email: str) -> UserView:
    """NotFound if no account has that email (compared lower-cased)."""
    with store.read():
        user = User.get_or_none(User.email == (email or "").strip().lower())
        if user is None:
            raise NotFound(f"No user with email {email!r}.")
        return _view(user)


def list_users(store, search: str = "") -> list[UserView]:
    with store.read():
        query = User.select().order_by(User.id)
        if search:
            query = query.where(User.email.contains(search.strip().lower()))
        return [_view(u) for u in query]


def set_disabled(store, email: str, disabled: bool, *, actor: str) -> UserView:
    user = get_user_by_email(store, email)
    with store.write():
        User.update(disabled=disabled).where(User.id == user.id).execute()
        if disabled:
            WebSession.delete().where(WebSession.user == user.id).execute()
    audit.record(store, actor, "user.disable" if disabled else "user.enable", user.email)
    return replace(user, disabled=disabled)


def authenticate(store, email: str, password: str) -> UserView | None:
    """The user if the email and password match an enabled account, else None."""
    try:
        email = normalize_email(email)
    except ValidationError:
        verify_password(password or "", None)
        return None
    with store.read():
        user = User.get_or_none(User.email == email)
    ok = verify_password(password or "", user.password_hash if user else None)  # ~30 ms: outside the read
    if not ok or user is None or user.disabled:
        return None
    return _view(user)


# -- dashboard sessions -----------------------------------------------------------------
@dataclass(frozen=True)
class SessionInfo:
    """The signed-in session of a page request. `public_id` names it on the Account page;
    `last_seen_at` (epoch seconds, None before its first touch) drives `sessions.touch`;
    `two_factor`: the user has confirmed TOTP sign-in (for --require-2fa)."""

    user_id: int
    email: str
    session_hash: str
    public_id: str = ""
    last_seen_at: float | None = None
    two_factor: bool = False


def start_session(store, user: UserView, lifetime: int, *, ip: str = "", user_agent: str = "") -> str:
    """A fresh session id (never reused across sign-ins). Only its hash is stored."""
    token = new_token(nbytes=32)
    now = time.time()
    with store.write():
        WebSession.create(id_hash=sha256_hex(token), user=user.id, expires_at=now + lifetime,
                          ip=ip[:64], user_agent=(user_agent or "")[:200], public_id=new_token(nbytes=12),
                          last_seen_at=now)
        User.update(last_login_at=now).where(User.id == user.id).execute()
        WebSession.delete().where(WebSession.expires_at < now).execute()
    audit.record(store, audit.user_actor(user.email), "user.signin", user.email, ip=ip)
    return token


def resolve_session(store, token: str) -> SessionInfo | None:
    with store.read():
        if not token or len(token) > 200:
            return None
        h = sha256_hex(token)
        row = (WebSession.select(WebSession.id_hash, WebSession.expires_at, WebSession.public_id,
                                 WebSession.last_seen_at, User.id, User.email, User.disabled,
                                 UserTotp.confirmed_at)
               .join(User).join(UserTotp, JOIN.LEFT_OUTER, on=(UserTotp.user == User.id))
               .where(WebSession.id_hash == h).dicts().first())
        if row is None or row["expires_at"] < time.time() or row["disabled"]:
            return None
        return SessionInfo(row["id"], row["email"], h, row["public_id"], row["last_seen_at"],
                           row["confirmed_at"] is not None)


def end_session(store, token: str) -> None:
    with store.write():
        WebSession.delete().where(WebSession.id_hash == sha256_hex(token or "")).execute()

