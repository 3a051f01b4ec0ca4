"""Which database the test's infer0 uses: SQLite in the data dir, or a fresh PostgreSQL database.

The integration suites that care (oauth, api, gateway, kek, cli, web, limits_ui) run each test
on both: their conftest calls `parametrize_backend(metafunc)`. The root conftest's `backend`
fixture then names the engine, creates a database on the session's throwaway cluster
(tests/support/postgres.py) for "postgres", and points every way a test reaches infer0 at it:

- in-process apps: `make_settings` adds `database_url` (with the password in it);
- `infer0` subprocesses (`run_cli`, `ServerProcess`): INFER0_DATABASE_URL without the password
  and PGPASSWORD in their environment, the way an operator keeps it out of `ps`;
- tests that open the data dir themselves: `open_data_dir` below.

`INFER0_TEST_BACKENDS=sqlite` (or `postgres`) narrows the run to one engine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from infer0app.services import datadir
from tests.support import processes

BACKENDS = ("sqlite", "postgres")


@dataclass
class Backend:
    name: str  # "sqlite" | "postgres"
    database_url: str = ""  # with the password, for in-process settings
    env: dict = field(default_factory=dict)  # for infer0 subprocesses

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"


SQLITE = Backend("sqlite")
_current: Backend = SQLITE


def current() -> Backend:
    return _current


def activate(backend: Backend) -> None:
    """Point subprocesses and open_data_dir at `backend` (the fixture resets it after the test)."""
    global _current
    _current = backend
    processes.BACKEND_ENV.clear()
    processes.BACKEND_ENV.update(backend.env)


def chosen_backends() -> list[str]:
    wanted = os.environ.get("INFER0_TEST_BACKENDS", "")
    names = [n.strip() for n in wanted.split(",") if n.strip()] or list(BACKENDS)
    return [n for n in names if n in BACKENDS]


def parametrize_backend(metafunc) -> None:
    """For a conftest's pytest_generate_tests: every test using `backend` runs on each engine,
    unless it names its own (`@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)`
    for what only SQLite has, such as `infer0 backup`'s file copy)."""
    if any(m.args and m.args[0] == "backend" for m in metafunc.definition.iter_markers("parametrize")):
        return
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", chosen_backends(), indirect=True)


def open_data_dir(data_dir: Path, *, create: bool = True, keyring_file: str = ""):
    """services.datadir.open_data_dir against the test's current backend."""
    b = _current
    return datadir.open_data_dir(data_dir, create=create, database_url=b.database_url, keyring_file=keyring_file)
