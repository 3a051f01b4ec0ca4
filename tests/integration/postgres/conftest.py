"""PostgreSQL-only tests: several infer0 processes sharing one database."""

from __future__ import annotations

import shutil

import pytest

from tests.support.processes import ServerProcess


def pytest_generate_tests(metafunc):
    """These tests are about PostgreSQL: the root `backend` fixture's "postgres" case only."""
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture
def second_instance(tmp_path, data_dir, backend):
    """`start(*flags)`: another `infer0 serve` on the same PostgreSQL database with a data dir of
    its own holding a copy of the first instance's keyring (as a second host would). Start the
    first instance (serve_process) before, so the keyring exists."""
    started = []

    def start(*extra: str) -> ServerProcess:
        other = tmp_path / "host-b"
        other.mkdir(mode=0o700, exist_ok=True)
        shutil.copy2(data_dir / "keyring.json", other / "keyring.json")
        proc = ServerProcess(other, *extra)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
