"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl from Debian's packages
(/usr/lib/postgresql/<version>/bin), in a temporary directory, on a free loopback port.

PostgreSQL refuses to run as root, and CI runs the tests as root: the cluster's files then
belong to an unprivileged account (`postgres` if the package created it, else `nobody`) and
initdb/pg_ctl run as that account. The superuser `infer0` has a password (scram-sha-256 on
TCP), so tests exercise how infer0 is given one (URL, --database-password-file, PGPASSWORD).
fsync is off: the tests kill infer0, never PostgreSQL, so its durability is not what they test.

`PostgresCluster.start()` / `.stop()`; `.create_database()` gives each test a fresh database
(`database_url(name)` / `url_without_password(name)`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from infer0app.store.postgres import import_psycopg
from tests.support.processes import free_port

SUPERUSER = "infer0"
PASSWORD = "pg-test-secret-7b1d"  # tests assert it never shows up in logs or output


def find_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin directory (INFER0_TEST_PG_BIN overrides), or None."""
    if os.environ.get("INFER0_TEST_PG_BIN"):
        return Path(os.environ["INFER0_TEST_PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and there is neither a postgres nor a nobody account to run PostgreSQL as")


class PostgresCluster:
    def __init__(self, bin_dir: Path):
        self.bin_dir = Path(bin_dir)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.account = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="infer0-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "postgres.log"
        self.started = False

    def _as_owner(self, argv: list[str], **kw) -> subprocess.CompletedProcess:
        if self.account is not None:
            kw.update(user=self.account.pw_uid, group=self.account.pw_gid, extra_groups=[])
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=self.root, **kw)

    def start(self) -> "PostgresCluster":
        self.sockets.mkdir()
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.account is not None:
            for path in (self.root, self.sockets, pwfile):
                os.chown(path, self.account.pw_uid, self.account.pw_gid)
        init = self._as_owner([str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                               "--pwfile", str(pwfile), "--auth-host=scram-sha-256", "--auth-local=trust",
                               "-E", "UTF8", "--no-instructions"], timeout=120)
        pwfile.unlink()
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses={self.host} -c fsync=off "
                   "-c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB")
        ctl = self._as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options,
                              "-l", str(self.log), "-w", "-t", "60", "start"], timeout=90)
        if ctl.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed:\n{ctl.stdout}\n{ctl.stderr}\n{log}")
        self.started = True
        return self

    def stop(self) -> None:
        if self.started:
            self._as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                            "stop"], timeout=60)
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    # -- databases -----------------------------------------------------------------------
    def url_without_password(self, name: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{name}"

    def database_url(self, name: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{PASSWORD}@{self.host}:{self.port}/{name}"

    def create_database(self, prefix: str = "t") -> str:
        """A fresh empty database; returns its name."""
        psycopg = import_psycopg()
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.database_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    # -- a pool of migrated databases (creating and migrating one per test cost ~1.5 s) --------
    def checkout(self) -> str:
        """A database with infer0's schema and no rows: a returned one, or a new empty one
        (infer0 migrates it on first open)."""
        if not hasattr(self, "_pool"):
            self._pool: list[str] = []
        return self._pool.pop() if self._pool else self.create_database()

    def checkin(self, name: str) -> None:
        """Empty the database (every table but schema_migration; ids restart) for the next test;
        drop it instead if that fails."""
        psycopg = import_psycopg()
        try:
            with psycopg.connect(self.database_url(name), autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                tables = [r[0] for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename NOT IN ('schema_migration', 'cache_epoch')")]
                if tables:
                    conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
                    conn.execute('UPDATE "cache_epoch" SET "n" = 0')
        except Exception:
            self.drop_database(name)
            return
        self._pool.append(name)

    def drop_database(self, name: str) -> None:
        psycopg = import_psycopg()
        with psycopg.connect(self.database_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
