"""The step between a right password and a signed-in session for an account with two-factor
sign-in (issue 17 §2).

No session exists yet, so the fact "this browser gave the right password for user N, going to
page P" rides in a cookie sealed with AES-256-GCM under a key derived from the keyring's
hmac_key (only this server can make or read one), sent only to /login/…, and good for
CHALLENGE_TTL seconds; the code page reads it, and the sign-in that follows deletes it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .. import keys
from ..services import two_factor
from .render import url_for

COOKIE = "i0_2fa"
CHALLENGE_TTL = 300  # seconds to find the phone and type the code
_AAD = b"signin-second-factor"


def _aead(request: web.Request) -> AESGCM:
    return AESGCM(hmac.new(request.config_dict[keys.VAULT].hmac_key, b"signin-challenge|v1", hashlib.sha256).digest())


async def needs_second_factor(request: web.Request, user_id: int) -> bool:
    status = await request.config_dict[keys.STORE].run(two_factor.status, user_id)
    return status.enabled


def second_factor_redirect(request: web.Request, user_id: int, email: str, nxt: str) -> web.HTTPSeeOther:
    """The 303 to the code page, carrying the sealed challenge."""
    body = json.dumps({"uid": user_id, "email": email, "next": nxt, "exp": time.time() + CHALLENGE_TTL}).encode()
    nonce = os.urandom(12)
    sealed = base64.urlsafe_b64encode(nonce + _aead(request).encrypt(nonce, body, _AAD)).decode()
    response = web.HTTPSeeOther(url_for(request, "login_second_factor"))
    response.set_cookie(COOKIE, sealed, max_age=CHALLENGE_TTL, path=str(url_for(request, "login")), httponly=True,
                        samesite="Lax", secure=request.config_dict[keys.SETTINGS].secure_cookies)
    return response


def read_challenge(request: web.Request) -> dict | None:
    """{"uid", "email", "next"} of a fresh challenge cookie, else None (missing, expired, forged)."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 2048:
        return None
    try:
        sealed = base64.urlsafe_b64decode(raw.encode())
        body = json.loads(_aead(request).decrypt(sealed[:12], sealed[12:], _AAD))
    except (binascii.Error, ValueError, InvalidTag):
        return None
    return body if body.get("exp", 0) > time.time() else None


def drop_challenge(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path=str(url_for(request, "login")))
