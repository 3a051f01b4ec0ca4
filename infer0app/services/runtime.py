"""Which servers are running, and which key-encryption keys each has loaded.

The pick-up protocol between a KEK rotation (CLI or TUI process) and running servers:

- every `infer0 serve` runs a `KeyringWatcher` (runtime/keyring_watch.py drives it): every
  `TICK` seconds it re-reads the keyring file if it changed (content compared, not only its
  mtime) and upserts its row in `server_instance`: pid, host, heartbeat time, the KEK ids it
  can open with and the KEK it seals with. The row is rewritten at once when the loaded
  keys change, and at least every `REFRESH` seconds otherwise; it is deleted on clean shutdown;
- a server is *live* while its heartbeat is younger than `STALE_AFTER` seconds and, when it
  runs on this host, its pid exists (a killed server stops counting at once); on PostgreSQL the
  heartbeat is written and judged by the database server's clock, so several hosts whose clocks
  differ agree on who is live;
- the rotation waits until every live server reports the new KEK id before making it
  primary, and until every live server seals with it before retiring the old one.
  With no live server it proceeds at once.

No HTTP, no signals: the database and the keyring file are the only channels. With several
hosts, that is one database and one keyring file shared by all (--keyring-file).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field

from .. import __version__
from ..store.models import ServerInstance, non_key_fields
from ..vault.keyring import KeyringError

log = logging.getLogger("infer0.runtime")

TICK = 0.5  # seconds between keyring checks in a server
REFRESH = 1.0  # a heartbeat is rewritten at least this often
STALE_AFTER = 5.0  # a heartbeat older than this means the server is gone
FORGET_AFTER = 24 * 3600.0  # rows of servers that died without cleaning up are pruned after this


@dataclass(frozen=True)
class LiveServer:
    instance_id: str
    pid: int
    host: str
    version: str
    started_at: float
    heartbeat_at: float
    kek_ids: tuple[str, ...]
    primary_kek: str

    @property
    def label(self) -> str:
        return f"pid {self.pid} on {self.host}"


def this_host() -> str:
    return socket.gethostname()[:255]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    try:  # Linux: a killed process not yet reaped by its parent is a zombie, not a server
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _row_to_live(row: ServerInstance) -> LiveServer:
    try:
        kek_ids = tuple(json.loads(row.kek_ids or "[]"))
    except ValueError:
        kek_ids = ()
    return LiveServer(row.instance_id, row.pid, row.host, row.version, row.started_at, row.heartbeat_at,
                      kek_ids, row.primary_kek)


def heartbeat_clock(store) -> float:
    """Now, in epoch seconds, on the clock heartbeats are written and judged by: on PostgreSQL the
    database server's, so hosts whose clocks disagree by seconds still see each other live (and a
    dead one stale); on SQLite (one host) this machine's."""
    if store.is_postgres:
        return float(store.db.execute_sql("SELECT EXTRACT(EPOCH FROM clock_timestamp())").fetchone()[0])
    return time.time()


def live_servers(store, *, now: float | None = None) -> list[LiveServer]:
    """Servers whose heartbeat is fresh (and, on this host, whose process still exists)."""
    with store.read():
        now = heartbeat_clock(store) if now is None else now
        host = this_host()
        rows = ServerInstance.select().where(ServerInstance.heartbeat_at > now - STALE_AFTER).order_by(
            ServerInstance.started_at)
        return [_row_to_live(r) for r in rows if r.host != host or _pid_alive(r.pid)]


def report(store, instance_id: str, vault, *, started_at: float) -> None:
    """Upsert this server's row: what it has loaded, and that it is alive now."""
    primary, kek_ids = vault.state()
    values = dict(instance_id=instance_id, pid=os.getpid(), host=this_host(), version=__version__[:40],
                  started_at=started_at, kek_ids=json.dumps(kek_ids), primary_kek=primary)
    with store.write():
        values["heartbeat_at"] = heartbeat_clock(store)
        (ServerInstance.insert(**values)
         .on_conflict(conflict_target=[ServerInstance.instance_id],
                      preserve=non_key_fields(ServerInstance)).execute())


def forget(store, instance_id: str) -> None:
    with store.write():
        ServerInstance.delete().where(ServerInstance.instance_id == instance_id).execute()


def prune_dead(store, *, now: float | None = None) -> int:
    with store.write():
        now = heartbeat_clock(store) if now is None else now
        return ServerInstance.delete().where(ServerInstance.heartbeat_at < now - FORGET_AFTER).execute()


@dataclass
class KeyringWatcher:
    """One server's side of the protocol; `tick()` is called every TICK seconds off the event loop."""

    store: object
    vault: object
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: float = field(default_factory=time.time)
    _reported: tuple | None = None
    _last_write: float = 0.0

    def tick(self) -> bool:
        """Reload the keyring if it changed; refresh the heartbeat. True if the keys changed."""
        changed = False
        problem = None
        try:
            changed = self.vault.reload_if_changed(check_content=True)
            if not self.vault.path.exists():
                problem = "keyring file missing"
        except KeyringError:  # a damaged file: keep serving with the keys we hold
            problem = "keyring file unreadable or damaged"
        if problem is not None and self.vault.file_problem is None:  # logged once per fault, not every tick
            log.error("%s (%s); keeping the loaded keys. Restore it before the server restarts, or it "
                      "will not start.", problem, self.vault.path)
        self.vault.file_problem = problem
        if changed:
            primary, kek_ids = self.vault.state()
            log.info("keyring reloaded", extra={"fields": {"primary": primary, "keks": kek_ids}})
        state = self.vault.state()
        now = time.time()
        if state != self._reported or now - self._last_write >= REFRESH:
            report(self.store, self.instance_id, self.vault, started_at=self.started_at)
            self._reported, self._last_write = state, now
        return changed

    def start(self) -> None:
        prune_dead(self.store)
        self.tick()

    def stop(self) -> None:
        forget(self.store, self.instance_id)
