"""Show a new client secret once, after a redirect (post/redirect/get), on any worker.

The POST that makes the secret cannot render it (a reload would post again: a second app, or a
second rotation), so it redirects, and the page it redirects to shows the secret once. The secret
rides to that page in a short-lived cookie sealed with AES-256-GCM under a key derived from the
keyring's hmac_key, bound (associated data) to the signed-in session and to the page, and expiring
after FLASH_TTL seconds; the page that shows it deletes the cookie, so a reload shows nothing.
A cookie rather than a row or process memory: with `--workers N` the GET may reach another
process, and a table would add a migration for a value that lives seconds.
"""

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

COOKIE = "i0_flash"
FLASH_TTL = 300  # seconds: time to follow one redirect, with room for a slow network


def _aead(request: web.Request) -> AESGCM:
    key = hmac.new(request.config_dict[keys.VAULT].hmac_key, b"flash-key|v1", hashlib.sha256).digest()
    return AESGCM(key)


def _aad(request: web.Request, scope: str) -> bytes:
    return f"flash|{request[keys.SESSION].session_hash}|{scope}".encode()


def set_flash(request: web.Request, response: web.StreamResponse, scope: str, payload: dict, *,
              path: str) -> None:
    """Seal `payload` (JSON-able) for the page `scope` (e.g. 'app:<client_id>') of this session; the
    cookie is sent only to URLs under `path`."""
    body = json.dumps({"exp": time.time() + FLASH_TTL, "data": payload}).encode()
    nonce = os.urandom(12)
    sealed = nonce + _aead(request).encrypt(nonce, body, _aad(request, scope))
    settings = request.config_dict[keys.SETTINGS]
    response.set_cookie(COOKIE, base64.urlsafe_b64encode(sealed).decode(), max_age=FLASH_TTL, path=path,
                        httponly=True, samesite="Strict", secure=settings.secure_cookies)


def take_flash(request: web.Request, scope: str) -> dict | None:
    """The payload sealed for `scope` in this session, if its cookie is here and fresh; else None.
    The caller deletes the cookie from its response (`drop_flash`)."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 4096 or request.get(keys.SESSION) is None:
        return None
    try:
        sealed = base64.urlsafe_b64decode(raw.encode())
        body = json.loads(_aead(request).decrypt(sealed[:12], sealed[12:], _aad(request, scope)))
    except (binascii.Error, ValueError, InvalidTag):
        return None  # another page's, another session's, tampered or from an old keyring
    return body["data"] if body.get("exp", 0) > time.time() else None


def drop_flash(response: web.StreamResponse, *, path: str) -> None:
    response.del_cookie(COOKIE, path=path)
