"""Random tokens and their hashes. Stored secrets are SHA-256 hashes compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(prefix: str = "", nbytes: int = 32) -> str:
    """At least 256 bits of randomness, with a readable prefix for secret scanners."""
    return prefix + secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same_hash(value: str, stored_hash: str | None) -> bool:
    if not stored_hash:
        return False
    return hmac.compare_digest(sha256_hex(value), stored_hash)
