"""Fixtures: a fresh data dir per test, the real app through its factory on a loopback socket."""

from __future__ import annotations

import pytest

from infer0app.app import create_app
from infer0app.config import load_settings
from tests.support import backend as backends
from tests.support.browser import Browser
from tests.support.egress import FAKES_ALLOW
from tests.support.processes import ServerProcess


# Argon2id at a test cost for the servers and services this process runs (sign-ups, sign-ins,
# password changes: thousands of hashes, ~75 ms each at the production cost). Same algorithm,
# same PHC strings, same code path; verifying reads the cost from the stored string.
# `infer0` subprocesses keep the production cost, and
# tests/unit/test_password_hash_cost.py checks that a fresh interpreter hashes at the OWASP cost.
TEST_ARGON2 = {"ARGON2_MEMORY_KIB": 1024, "ARGON2_ITERATIONS": 1}


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    from infer0app.services import accounts
    patch = pytest.MonkeyPatch()
    for name, value in TEST_ARGON2.items():
        patch.setattr(accounts, name, value)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster for the whole session (tests/support/postgres.py), started
    on first use. Missing PostgreSQL fails the tests that need it: build/test.sh installs it."""
    from tests.support.postgres import PostgresCluster, find_bin_dir
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed (apt-get install postgresql; build/test.sh does it), "
                    "or set INFER0_TEST_BACKENDS=sqlite")
    cluster = PostgresCluster(bin_dir).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def backend(request):
    """The test's database engine (tests/support/backend.py): "sqlite" unless a conftest
    parametrises it; for "postgres", a fresh database on the session cluster."""
    name = getattr(request, "param", "sqlite")
    if name == "sqlite":
        backends.activate(backends.SQLITE)
        yield backends.SQLITE
        return
    from tests.support.postgres import PASSWORD
    cluster = request.getfixturevalue("pg_cluster")
    db = cluster.checkout()
    b = backends.Backend("postgres", cluster.database_url(db),
                         {"INFER0_DATABASE_URL": cluster.url_without_password(db), "PGPASSWORD": PASSWORD})
    backends.activate(b)
    try:
        yield b
    finally:
        backends.activate(backends.SQLITE)
        cluster.checkin(db)  # emptied for the next test (ends what a lingering server left connected)


@pytest.fixture
def data_dir(tmp_path, backend):
    d = tmp_path / "data"
    return d


@pytest.fixture
def make_settings(data_dir, backend):
    """Settings from flags; `upstream_allow` defaults to FAKES_ALLOW (the fakes on loopback)."""

    def make(**overrides):
        flags = {"data_dir": str(data_dir), "upstream_allow": FAKES_ALLOW, "database_url": backend.database_url}
        flags.update({k: (str(v) if v is not None else None) for k, v in overrides.items()})
        return load_settings(flags, environ={})
    return make


@pytest.fixture
async def server(make_settings, aiohttp_server):
    """The real app (create_app) served on 127.0.0.1; returns the aiohttp TestServer.

    make_settings (so the backend) comes first: fixtures tear down in reverse, so the app
    stops, flushing its queued usage rows, before the PostgreSQL database is emptied for the
    next test (the other order let a flush land after the TRUNCATE, in the next test's rows).
    Request `backend`/`make_settings` before `aiohttp_server` in new fixtures too."""

    async def start(**overrides):
        srv = await aiohttp_server(create_app(make_settings(**overrides)), host="127.0.0.1")
        return srv

    return start


@pytest.fixture
async def app_url(server):
    srv = await server()
    return str(srv.make_url("")).rstrip("/")


@pytest.fixture
async def browser(app_url):
    b = Browser(app_url)
    yield b
    await b.close()


@pytest.fixture
async def new_browser(app_url):
    made = []

    def make():
        b = Browser(app_url)
        made.append(b)
        return b

    yield make
    for b in made:
        await b.close()


@pytest.fixture
def serve_process(data_dir):
    """`start(*flags)` runs `infer0 serve`; `--upstream-allow FAKES_ALLOW` unless flags name one."""
    started = []

    def start(*extra, **kw):
        if "--upstream-allow" not in extra:
            extra = (*extra, "--upstream-allow", FAKES_ALLOW)
        proc = ServerProcess(data_dir, *extra, **kw)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
