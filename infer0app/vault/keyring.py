"""The keyring file: key-encryption keys (KEKs), outside the database, mode 0600.

Format (JSON):
    {"format": "infer0-keyring/1",
     "primary": "<kek id that seals new secrets>",
     "keys": [{"id": "...", "key": "<base64 32 bytes>", "created": <epoch>, "status": "active|retired"}],
     "hmac_key": "<base64 32 bytes>"}   # signs CSRF tokens; never leaves the process

Writes are atomic (temp file, fsync, rename, fsync dir) so a crash leaves either the old or
the new file. A missing or damaged keyring is never silently replaced while the database
holds secrets: the operator gets a message naming the file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import envelope

FORMAT = "infer0-keyring/1"


class KeyringError(RuntimeError):
    """The keyring file is missing, unreadable or damaged; the message names the file."""


@dataclass(frozen=True)
class Kek:
    id: str
    key: bytes
    created: float
    status: str  # "active" (can open) or "retired" (kept only until no secret uses it)


def new_kek_id() -> str:
    return "kek-" + time.strftime("%Y%m%d", time.gmtime()) + "-" + secrets.token_hex(4)


class Vault:
    """The loaded keyring: seals with the primary KEK, opens with any KEK it holds."""

    def __init__(self, path: Path, primary: str, keys: dict[str, Kek], hmac_key: bytes, mtime: float = 0.0):
        self.path = Path(path)
        self.primary = primary
        self.keys = keys
        self.hmac_key = hmac_key
        self._mtime = mtime
        # What was loaded: the file's (mtime_ns, inode, size) and a digest of its bytes. The
        # stat signature alone can miss two rewrites within one clock tick (coarse file
        # timestamps, reused inode numbers), so watchers also compare content.
        self._signature: tuple[int, int, int] | None = None
        self._digest = b""
        self._lock = threading.Lock()
        # Set by the server's keyring watcher when the file on disk cannot be read or is gone
        # (the loaded keys keep serving; /healthz reports it, since a restart would fail).
        self.file_problem: str | None = None

    # -- file ----------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path) -> "Vault":
        path = Path(path)
        if path.exists():
            raise KeyringError(f"Refusing to overwrite the existing keyring {path}")
        kek = Kek(new_kek_id(), secrets.token_bytes(32), time.time(), "active")
        vault = cls(path, kek.id, {kek.id: kek}, secrets.token_bytes(32))
        vault.save(exclusive=True)
        return vault

    @classmethod
    def load(cls, path: Path) -> "Vault":
        path = Path(path)
        try:
            with open(path, "rb") as fh:  # stat the very file we read, not a later replacement
                st = os.fstat(fh.fileno())
                raw = fh.read()
        except FileNotFoundError:
            raise KeyringError(f"The keyring file {path} is missing. Restore it from your backup; "
                               "without it the stored provider keys cannot be decrypted.") from None
        except OSError as exc:
            raise KeyringError(f"The keyring file {path} cannot be read: {exc.strerror}") from None
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise ValueError("unknown format")
            keys = {}
            for entry in data["keys"]:
                key = base64.b64decode(entry["key"], validate=True)
                if len(key) != 32:
                    raise ValueError("bad key length")
                keys[entry["id"]] = Kek(entry["id"], key, float(entry["created"]), entry["status"])
            primary = data["primary"]
            if primary not in keys:
                raise ValueError("primary key missing")
            hmac_key = base64.b64decode(data["hmac_key"], validate=True)
        except (ValueError, KeyError, TypeError):
            raise KeyringError(f"The keyring file {path} is damaged (not a valid infer0 keyring). "
                               "Restore it from your backup; it was left untouched.") from None
        vault = cls(path, primary, keys, hmac_key, st.st_mtime)
        vault._signature = _signature(st)
        vault._digest = hashlib.sha256(raw).digest()
        return vault

    def to_json(self) -> bytes:
        return json.dumps({
            "format": FORMAT,
            "primary": self.primary,
            "keys": [{"id": k.id, "key": base64.b64encode(k.key).decode(), "created": k.created,
                      "status": k.status} for k in self.keys.values()],
            "hmac_key": base64.b64encode(self.hmac_key).decode(),
        }, indent=1).encode()

    def save(self, *, exclusive: bool = False) -> None:
        """Atomically replace the keyring file (temp file, fsync, rename, fsync directory).

        `exclusive=True` (a new keyring) never replaces a file that appeared meanwhile: two
        instances starting at once on one shared keyring path must not each write a keyring of
        their own (the loser's secrets would be sealed under a key nobody keeps); FileExistsError."""
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".keyring-", dir=str(directory))
        data = self.to_json()
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if exclusive:  # link(2) fails if the name exists: create-if-absent, atomically
                os.link(tmp, self.path)
                os.unlink(tmp)
            else:
                os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        dir_fd = os.open(str(directory), os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        st = self.path.stat()
        self._mtime, self._signature, self._digest = st.st_mtime, _signature(st), hashlib.sha256(data).digest()

    def reload_if_changed(self, *, check_content: bool = False) -> bool:
        """Pick up a keyring rewritten by another process (rotation from the CLI or TUI).

        `check_content=True` also compares the file's bytes (about 1 KB) with what was loaded,
        which catches rewrites the stat signature cannot tell apart; the server's keyring
        watcher uses it. Raises KeyringError if the new file is damaged (the keys stay loaded).
        """
        try:
            st = self.path.stat()
        except OSError:
            return False
        if _signature(st) == self._signature and not check_content:
            return False
        fresh = Vault.load(self.path)
        if fresh._digest == self._digest:
            self._signature, self._mtime = fresh._signature, fresh._mtime
            return False
        with self._lock:
            self.primary, self.keys, self.hmac_key = fresh.primary, fresh.keys, fresh.hmac_key
            self._mtime, self._signature, self._digest = fresh._mtime, fresh._signature, fresh._digest
        return True

    def state(self) -> tuple[str, list[str]]:
        """(primary id, sorted ids of every KEK held), read consistently with a reload."""
        with self._lock:
            return self.primary, sorted(self.keys)

    # -- crypto --------------------------------------------------------------------
    def seal(self, secret: str, aad: bytes) -> envelope.Sealed:
        with self._lock:  # primary and keys are swapped together by reload_if_changed
            kek = self.keys[self.primary]
        return envelope.seal(secret.encode(), aad, kek.id, kek.key)

    def open(self, sealed: envelope.Sealed, aad: bytes) -> str:
        kek = self.keys.get(sealed.kek_id)
        if kek is None:
            self.reload_if_changed()
            kek = self.keys.get(sealed.kek_id)
        if kek is None:
            raise envelope.SealError(f"key-encryption key {sealed.kek_id} is not in the keyring {self.path}")
        return envelope.open_sealed(sealed, aad, kek.key).decode()


def _signature(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_mtime_ns, st.st_ino, st.st_size)


def open_or_create(path: Path, *, allow_create: bool, given: bool = False) -> Vault:
    """Load the keyring; create it only when allowed (a fresh database with no secrets).

    `given=True`: the operator named this file (--keyring-file), e.g. a secret shared by every
    instance: a group- or world-readable one is refused (KeyringError), not tightened, since
    infer0 does not own it. The data dir's own keyring.json is tightened to 0600 instead."""
    path = Path(path)
    if not path.exists() and allow_create:
        try:
            return Vault.create(path)
        except FileExistsError:  # another instance created it a moment ago: use theirs
            pass
    vault = Vault.load(path)  # raises the "missing" message when not allowed to create
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        if given:
            raise KeyringError(f"The keyring file {path} is readable by other users (mode {mode:04o}); it holds "
                               f"the keys that open every stored provider key. Make it private to the user "
                               f"infer0 runs as (chmod 600 {path}, or a secret mounted with mode 0400).")
        os.chmod(path, 0o600)  # tighten a keyring copied into the data dir with loose permissions
    return vault
