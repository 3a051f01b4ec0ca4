"""Throttles shared by every process and instance on the database (issue 15 §3), instead of
counted in each process's memory (services/throttle.py):

- `throttle_failure`: one row per counted failure (or attempt, for rate limits): the throttle's
  `scope` (e.g. "sign_in"), `key_hash` (HMAC-SHA256 of the scope and the counted key: an email,
  address or client id is never stored), `at` (epoch seconds). Rows older than their scope's
  window are pruned every 10 minutes (runtime/throttle_purge.py).
- `throttle_trust`: the last success of an (account, address) pair, for the per-account cap's
  "addresses that signed in before are let through"; `key_hash` as above.
"""

from . import execute_all

STATEMENTS = [
    'CREATE TABLE "throttle_failure" ("id" INTEGER NOT NULL PRIMARY KEY, "scope" VARCHAR(40) NOT NULL, '
    '"key_hash" VARCHAR(64) NOT NULL, "at" REAL NOT NULL)',
    'CREATE INDEX "throttle_failure_scope_key_hash_at" ON "throttle_failure" ("scope", "key_hash", "at")',
    'CREATE TABLE "throttle_trust" ("key_hash" VARCHAR(64) NOT NULL PRIMARY KEY, "scope" VARCHAR(40) NOT NULL, '
    '"at" REAL NOT NULL)',
    'CREATE INDEX "throttle_trust_scope_at" ON "throttle_trust" ("scope", "at")',
]


def up(store):
    execute_all(store, STATEMENTS)  # translated for PostgreSQL when that is the engine
