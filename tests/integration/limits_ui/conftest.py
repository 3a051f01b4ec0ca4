"""Each test here that reaches infer0 runs on SQLite and on PostgreSQL (tests/support/backend.py)."""

from tests.support.backend import parametrize_backend


def pytest_generate_tests(metafunc):
    parametrize_backend(metafunc)
