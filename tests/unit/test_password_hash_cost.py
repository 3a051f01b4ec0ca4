"""Passwords are stored as Argon2id at the OWASP cost (m=19 MiB, t=2, p=1) in production.

The suite lowers the cost in its own process (tests/conftest.py, `cheap_password_hashing`);
this test hashes in a fresh interpreter, as `infer0` does, so the lowered cost can never be
what a deployment stores."""

from __future__ import annotations

import subprocess
import sys

from infer0app.services import accounts
from tests.support.processes import ROOT, cli_env

HASH_IN_A_FRESH_PROCESS = (
    "from infer0app.services import accounts; "
    "h = accounts.hash_password('correct horse battery'); "
    "print(h); "
    "assert accounts.verify_password('correct horse battery', h)"
)


def test_a_fresh_process_hashes_at_the_owasp_cost():
    proc = subprocess.run([sys.executable, "-c", HASH_IN_A_FRESH_PROCESS], capture_output=True, text=True,
                          cwd=ROOT, env=cli_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    stored = proc.stdout.strip()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), stored


def test_a_hash_made_at_either_cost_verifies_in_this_process():
    """Verification reads the cost from the stored string: a production hash still opens
    while the suite hashes cheaply, and a wrong password fails at both costs."""
    proc = subprocess.run([sys.executable, "-c", HASH_IN_A_FRESH_PROCESS], capture_output=True, text=True,
                          cwd=ROOT, env=cli_env(), timeout=60)
    production = proc.stdout.strip()
    cheap = accounts.hash_password("correct horse battery")
    assert cheap.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    for stored in (production, cheap):
        assert accounts.verify_password("correct horse battery", stored)
        assert not accounts.verify_password("correct horse batterz", stored)
