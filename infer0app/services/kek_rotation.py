"""Key-encryption-key rotation: crash-safe, resumable, and live (servers keep serving).

Used unchanged by `infer0 kek rotate` and the TUI's Keys screen. The steps:

1. Lock: an exclusive `flock` on `<keyring>.lock` (released by the kernel if we die), and on
   PostgreSQL a session advisory lock (released by the server if we die), so two rotations
   never interleave, on one host or on several.
2. Add: a fresh KEK goes into the keyring file with status "pending" (atomic save: temp
   file, fsync, rename, fsync dir). Servers can open with it; nobody seals with it yet.
3. Pick-up: wait until every live server (services/runtime.py) reports the new id, then
   make it primary (atomic save) and wait until every live server seals with it.
   With no server running this is immediate.
4. Re-wrap: each secret's data key is unwrapped with its KEK and wrapped again under the
   new one, a few rows per `BEGIN IMMEDIATE` transaction, each row written by a
   compare-and-swap (`... WHERE id=? AND kek_id=old AND wrapped_dek=old`): a row someone
   changed meanwhile is left alone and picked up by the next pass. The secret's ciphertext
   is never touched, so a half-done batch cannot lose anything.
5. Verify: every secret is decrypted (and discarded) with the keyring; all must open and
   sit under the new KEK (stragglers get another re-wrap pass).
6. Retire: only then are the older KEKs marked "retired" (atomic save). Retired KEKs stay
   in the file, so database backups taken before the rotation still open.

Why a kill at any point loses nothing: keys are only ever added to the keyring, never
removed, and each file rewrite is atomic; each row moves from one KEK in the file to
another in one committed transaction. So every stored secret always names a KEK that the
keyring holds. Running `rotate` again resumes: a "pending" KEK, or a non-primary KEK still
"active", marks an unfinished rotation, which is completed instead of starting another.

Fault injection (tests only): `INFER0_FAULT_ROTATE_KILL_AT=N` makes the process SIGKILL
itself at the N-th step (numbered from 1; each `_Faults.step` call is one step, named on
stderr as it dies). Unset, it costs one integer comparison per step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import peewee as pw

from ..store.models import ProviderConnection
from ..vault.envelope import Sealed, SealError, open_sealed, provider_aad, unwrap_dek, wrap_dek
from ..vault.keyring import Kek, Vault, new_kek_id
from . import audit, runtime
from .errors import ServiceError

FAULT_ENV = "INFER0_FAULT_ROTATE_KILL_AT"
BATCH_SIZE = 8  # rows per re-wrap transaction: short write locks, the server keeps writing
MAX_BATCH_SIZE = 10_000  # past this one transaction would hold the write lock for seconds
MAX_SERVER_WAIT = 3600.0  # seconds: an hour is more than any server needs to reload the keyring
SERVER_WAIT = 30.0  # seconds to wait for running servers to pick up a keyring change
MAX_PASSES = 5  # re-wrap passes for rows changed concurrently during a pass

ProgressFn = Callable[["Progress"], None]


class RotationError(ServiceError):
    """The rotation stopped; nothing is lost and running it again continues it."""


class RotationBusy(RotationError):
    pass


class RotationCancelled(RotationError):
    pass


@dataclass(frozen=True)
class Progress:
    phase: str  # add | wait-load | promote | wait-primary | rewrap | verify | retire | done
    done: int
    total: int
    message: str


@dataclass(frozen=True)
class RotationResult:
    new_kek: str
    old_keks: list[str]
    resumed: bool
    rewrapped: int
    verified: int
    retired: list[str]
    servers: int  # live servers that confirmed the pick-up

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class KekInfo:
    id: str
    created: float
    status: str  # the file's status: active | pending | retired
    primary: bool
    secrets: int


@dataclass(frozen=True)
class KeyringStatus:
    path: str
    primary: str
    keys: list[KekInfo]
    secrets_total: int
    secrets_without_kek: int  # sealed under an id the keyring does not hold: cannot be opened
    rotation_in_progress: bool
    servers: list[runtime.LiveServer]


# -- fault injection ----------------------------------------------------------------------
class _Faults:
    def __init__(self) -> None:
        raw = os.environ.get(FAULT_ENV, "")
        self.kill_at = int(raw) if raw.isdigit() else 0
        self.count = 0

    def step(self, name: str) -> None:
        self.count += 1
        if self.count == self.kill_at:
            sys.stderr.write(f"infer0 fault injection: SIGKILL at step {self.count} ({name})\n")
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)


# -- status -------------------------------------------------------------------------------
def secrets_per_kek(store) -> dict[str, int]:
    with store.read():
        query = (ProviderConnection.select(ProviderConnection.kek_id, pw.fn.COUNT(ProviderConnection.id).alias("n"))
                 .where(ProviderConnection.kek_id.is_null(False)).group_by(ProviderConnection.kek_id))
        return {row.kek_id: row.n for row in query}


def _unfinished(ring: Vault) -> bool:
    return any(k.status == "pending" or (k.id != ring.primary and k.status == "active")
               for k in ring.keys.values())


def keyring_status(store, keyring_file: Path) -> KeyringStatus:
    ring = Vault.load(keyring_file)
    counts = secrets_per_kek(store)
    keys = [KekInfo(k.id, k.created, k.status, k.id == ring.primary, counts.get(k.id, 0))
            for k in sorted(ring.keys.values(), key=lambda k: k.created, reverse=True)]
    orphans = sum(n for kek_id, n in counts.items() if kek_id not in ring.keys)
    return KeyringStatus(str(keyring_file), ring.primary, keys, sum(counts.values()), orphans,
                         _unfinished(ring), runtime.live_servers(store))


# -- the rotation -------------------------------------------------------------------------
@contextlib.contextmanager
def rotation_lock(keyring_file: Path) -> Iterator[None]:
    import fcntl

    lock_path = Path(str(keyring_file) + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise RotationError(_unwritable(keyring_file, exc)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RotationBusy("Another key rotation is running on this data directory; wait for it to "
                               "finish.") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def database_rotation_lock(store) -> Iterator[None]:
    """On PostgreSQL, a session advisory lock: one rotation at a time across every host sharing
    the database, even where the keyring's `.lock` file is not shared (or its directory is a
    read-only secret mount). The server drops it if the rotating process dies (its connection
    closes). SQLite: nothing more than the file lock is needed (one host)."""
    if not store.is_postgres:
        yield
        return
    from ..store.postgres import ROTATION_LOCK

    if not store.db.execute_sql("SELECT pg_try_advisory_lock(%s)", (ROTATION_LOCK,)).fetchone()[0]:
        raise RotationBusy("Another key rotation is running on this database (on another host); wait for "
                           "it to finish.")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # a dropped connection has released it already
            store.db.execute_sql("SELECT pg_advisory_unlock(%s)", (ROTATION_LOCK,))


def _unwritable(keyring_file: Path, exc: OSError) -> str:
    return (f"Cannot write beside the keyring {keyring_file} ({exc.strerror}): a rotation rewrites it. If it is a "
            "read-only secret mount, rotate a writable copy (--keyring-file COPY) and publish it to every "
            "instance while the rotation waits for them. Nothing was lost.")


def _save(ring: Vault) -> None:
    try:
        ring.save()
    except OSError as exc:
        raise RotationError(_unwritable(ring.path, exc)) from None


def _remove_stale_temp_files(keyring_file: Path) -> None:
    """A save killed before its rename leaves `.keyring-*`; under the lock no save is running."""
    for tmp in keyring_file.parent.glob(".keyring-*"):
        with contextlib.suppress(OSError):
            tmp.unlink()


class _Rotation:
    def __init__(self, store, keyring_file: Path, actor: str, progress: ProgressFn | None,
                 server_wait: float, batch_size: int, cancelled: Callable[[], bool] | None):
        self.store = store
        self.keyring_file = Path(keyring_file)
        self.actor = actor
        self.progress = progress or (lambda p: None)
        self.server_wait = server_wait
        self.batch_size = max(1, batch_size)
        self.cancelled = cancelled or (lambda: False)
        self.faults = _Faults()
        self.servers = 0

    def say(self, phase: str, message: str, done: int = 0, total: int = 0) -> None:
        self.progress(Progress(phase, done, total, message))

    def check_cancel(self) -> None:
        if self.cancelled():
            raise RotationCancelled("Rotation stopped before it finished; nothing is lost. Run it again to "
                                    "complete it.")

    # step 2 -------------------------------------------------------------------------
    def choose_key(self, ring: Vault) -> tuple[str, bool]:
        pending = sorted((k for k in ring.keys.values() if k.status == "pending"), key=lambda k: k.created)
        if pending:
            return pending[-1].id, True
        if _unfinished(ring):
            return ring.primary, True
        kek = Kek(new_kek_id(), secrets.token_bytes(32), time.time(), "pending")
        ring.keys[kek.id] = kek
        _save(ring)
        self.faults.step("key-added")
        self.say("add", f"Added key {kek.id} to the keyring.")
        return kek.id, False

    # step 3 -------------------------------------------------------------------------
    def wait_for_servers(self, ready: Callable[[runtime.LiveServer], bool], what: str) -> int:
        deadline = time.monotonic() + self.server_wait
        while True:
            live = runtime.live_servers(self.store)
            waiting = [s for s in live if not ready(s)]
            if not waiting:
                return len(live)
            if time.monotonic() > deadline:
                names = ", ".join(s.label for s in waiting)
                raise RotationError(
                    f"Running server(s) {names} did not {what} within {self.server_wait:g} s. Nothing was lost; "
                    "check the server logs (keyring watcher), then run the rotation again to continue.")
            self.check_cancel()
            time.sleep(0.1)

    def promote(self, new_id: str) -> None:
        ring = Vault.load(self.keyring_file)
        if ring.primary != new_id:
            self.say("wait-load", "Waiting for running servers to load the new key…")
            self.servers = self.wait_for_servers(lambda s: new_id in s.kek_ids, "load the new key")
            self.faults.step("servers-loaded")
            ring = Vault.load(self.keyring_file)
            ring.keys[new_id] = dataclasses.replace(ring.keys[new_id], status="active")
            ring.primary = new_id
            _save(ring)
            self.faults.step("promoted")
            self.say("promote", f"Key {new_id} is now primary: new secrets are sealed with it.")
        self.say("wait-primary", "Waiting for running servers to seal with the new key…")
        self.servers = max(self.servers, self.wait_for_servers(lambda s: s.primary_kek == new_id,
                                                               "switch to the new key"))
        self.faults.step("servers-switched")

    # step 4 -------------------------------------------------------------------------
    def _left(self, new_id: str, skip: set[int]) -> pw.Expression:
        cond = ProviderConnection.kek_id.is_null(False) & (ProviderConnection.kek_id != new_id)
        if skip:
            cond &= ProviderConnection.id.not_in(list(skip))
        return cond

    def rewrap(self, ring: Vault, new_id: str, failures: dict[int, str]) -> int:
        new_key = ring.keys[new_id].key
        moved = 0
        for _ in range(MAX_PASSES):
            total = ProviderConnection.select().where(self._left(new_id, set(failures))).count()
            if total == 0:
                break
            done, last_id = 0, 0
            self.say("rewrap", f"Re-wrapping {total} secret(s)…", 0, total)
            while True:
                self.check_cancel()
                rows = list(ProviderConnection
                            .select(ProviderConnection.id, ProviderConnection.uid, ProviderConnection.user,
                                    ProviderConnection.kek_id, ProviderConnection.wrapped_dek)
                            .where(self._left(new_id, set(failures)) & (ProviderConnection.id > last_id))
                            .order_by(ProviderConnection.id).limit(self.batch_size))
                if not rows:
                    break
                last_id = rows[-1].id
                swaps = []
                for row in rows:
                    old = ring.keys.get(row.kek_id)
                    if old is None:
                        failures[row.id] = f"its key-encryption key {row.kek_id} is not in the keyring"
                        continue
                    aad = provider_aad(row.uid, row.user_id)
                    wrapped = bytes(row.wrapped_dek or b"")
                    try:
                        dek = unwrap_dek(wrapped, aad, row.kek_id, old.key)
                    except SealError:
                        failures[row.id] = "its data key does not open"
                        continue
                    swaps.append((row.id, row.kek_id, wrapped, wrap_dek(dek, aad, new_id, new_key)))
                with self.store.write():
                    for row_id, old_id, old_wrapped, new_wrapped in swaps:
                        moved += (ProviderConnection.update(wrapped_dek=new_wrapped, kek_id=new_id)
                                  .where((ProviderConnection.id == row_id) & (ProviderConnection.kek_id == old_id)
                                         & (ProviderConnection.wrapped_dek == old_wrapped)).execute())
                    self.faults.step("batch-written")  # killed here: the transaction rolls back
                self.faults.step("batch-committed")
                done += len(rows)
                self.say("rewrap", f"Re-wrapped {min(done, total)} of {total}.", min(done, total), total)
        return moved

    # step 5 -------------------------------------------------------------------------
    def verify(self, ring: Vault, new_id: str, failures: dict[int, str]) -> tuple[int, int]:
        """(secrets that open under the new key, secrets still under another key)."""
        total = ProviderConnection.select().where(ProviderConnection.key_ciphertext.is_null(False)).count()
        ok = stragglers = done = last_id = 0
        self.say("verify", f"Verifying {total} secret(s)…", 0, total)
        while True:
            rows = list(ProviderConnection
                        .select(ProviderConnection.id, ProviderConnection.uid, ProviderConnection.user,
                                ProviderConnection.kek_id, ProviderConnection.wrapped_dek,
                                ProviderConnection.key_ciphertext)
                        .where(ProviderConnection.key_ciphertext.is_null(False) & (ProviderConnection.id > last_id))
                        .order_by(ProviderConnection.id).limit(200))
            if not rows:
                break
            last_id = rows[-1].id
            for row in rows:
                kek = ring.keys.get(row.kek_id or "")
                try:
                    if kek is None:
                        raise SealError("missing key")
                    open_sealed(Sealed(row.kek_id, bytes(row.wrapped_dek or b""), bytes(row.key_ciphertext)),
                                provider_aad(row.uid, row.user_id), kek.key)
                except SealError:
                    failures.setdefault(row.id, "it does not decrypt")
                    continue
                if row.kek_id == new_id:
                    ok += 1
                else:
                    stragglers += 1
            done += len(rows)
            self.say("verify", f"Verified {min(done, total)} of {total}.", min(done, total), total)
        return ok, stragglers

    # step 6 -------------------------------------------------------------------------
    def retire(self, new_id: str) -> list[str]:
        ring = Vault.load(self.keyring_file)
        retired = [k.id for k in ring.keys.values() if k.id != new_id and k.status != "retired"]
        for kek_id in retired:
            ring.keys[kek_id] = dataclasses.replace(ring.keys[kek_id], status="retired")
        if retired:
            _save(ring)
        self.faults.step("retired")
        return retired

    def run(self) -> RotationResult:
        with rotation_lock(self.keyring_file), database_rotation_lock(self.store):
            self.faults.step("locked")
            _remove_stale_temp_files(self.keyring_file)
            ring = Vault.load(self.keyring_file)
            old_keks = sorted(k for k in ring.keys if ring.keys[k].status != "retired")
            new_id, resumed = self.choose_key(ring)
            old_keks = [k for k in old_keks if k != new_id]
            audit.record(self.store, self.actor, "kek.rotate.resume" if resumed else "kek.rotate.start", new_id)
            self.promote(new_id)
            ring = Vault.load(self.keyring_file)
            failures: dict[int, str] = {}
            moved, verified = 0, 0
            for _ in range(MAX_PASSES):
                moved += self.rewrap(ring, new_id, failures)
                verified, stragglers = self.verify(ring, new_id, failures)
                if not stragglers or failures:
                    break
            self.faults.step("verified")
            if failures:
                ids = ", ".join(f"{row_id} ({why})" for row_id, why in sorted(failures.items())[:10])
                audit.record(self.store, self.actor, "kek.rotate.failed", new_id, unreadable=sorted(failures))
                raise RotationError(
                    f"{len(failures)} stored provider key(s) cannot be opened, so the old key was NOT retired: "
                    f"provider connection {ids}. Have their owners re-enter those keys (or delete the connections), "
                    "then run the rotation again.")
            if stragglers:
                raise RotationError("Secrets kept being changed under an older key during the rotation; run it "
                                    "again to finish.")
            self.say("retire", "Retiring the old key(s)…")
            retired = self.retire(new_id)
            audit.record(self.store, self.actor, "kek.rotate", new_id, retired=retired, rewrapped=moved,
                         verified=verified, resumed=resumed)
            self.say("done", f"Rotation complete: {verified} secret(s) under {new_id}.", verified, verified)
            return RotationResult(new_id, old_keks, resumed, moved, verified, retired, self.servers)


def rotate(store, keyring_file: Path, *, actor: str, progress: ProgressFn | None = None,
           server_wait: float = SERVER_WAIT, batch_size: int = BATCH_SIZE,
           cancelled: Callable[[], bool] | None = None) -> RotationResult:
    """Rotate (or finish an interrupted rotation of) the KEK. Raises RotationError with a sentence."""
    return _Rotation(store, keyring_file, actor, progress, server_wait, batch_size, cancelled).run()
