"""Seal and open secrets: AES-256-GCM with a fresh data key (DEK) per secret.

    ciphertext  = nonce(12) || AESGCM(DEK).encrypt(secret, aad)
    wrapped_dek = nonce(12) || AESGCM(KEK).encrypt(DEK, aad + kek_id)

The associated data binds a ciphertext to its row and owner: copied onto another row, it
fails to open. Rotation re-wraps only the DEK; the secret's ciphertext never changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE = 12


class SealError(Exception):
    """A secret could not be opened (wrong row, wrong key, or damaged data). Never names the secret."""


@dataclass(frozen=True)
class Sealed:
    kek_id: str
    wrapped_dek: bytes
    ciphertext: bytes


def provider_aad(uid: str, user_id: int) -> bytes:
    return f"infer0/provider-key/v1/{uid}/{user_id}".encode()


def _wrap_aad(aad: bytes, kek_id: str) -> bytes:
    return aad + b"|kek=" + kek_id.encode()


def seal(secret: bytes, aad: bytes, kek_id: str, kek: bytes) -> Sealed:
    dek = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE)
    ciphertext = nonce + AESGCM(dek).encrypt(nonce, secret, aad)
    return Sealed(kek_id, wrap_dek(dek, aad, kek_id, kek), ciphertext)


def wrap_dek(dek: bytes, aad: bytes, kek_id: str, kek: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(kek).encrypt(nonce, dek, _wrap_aad(aad, kek_id))


def unwrap_dek(wrapped: bytes, aad: bytes, kek_id: str, kek: bytes) -> bytes:
    try:
        return AESGCM(kek).decrypt(wrapped[:NONCE], wrapped[NONCE:], _wrap_aad(aad, kek_id))
    except (InvalidTag, ValueError):
        raise SealError("the data key does not open under this key-encryption key and row") from None


def open_sealed(sealed: Sealed, aad: bytes, kek: bytes) -> bytes:
    dek = unwrap_dek(sealed.wrapped_dek, aad, sealed.kek_id, kek)
    try:
        return AESGCM(dek).decrypt(sealed.ciphertext[:NONCE], sealed.ciphertext[NONCE:], aad)
    except (InvalidTag, ValueError):
        raise SealError("the secret does not open for this row") from None


def rewrap(sealed: Sealed, aad: bytes, old_kek: bytes, new_kek_id: str, new_kek: bytes) -> Sealed:
    dek = unwrap_dek(sealed.wrapped_dek, aad, sealed.kek_id, old_kek)
    return Sealed(new_kek_id, wrap_dek(dek, aad, new_kek_id, new_kek), sealed.ciphertext)
