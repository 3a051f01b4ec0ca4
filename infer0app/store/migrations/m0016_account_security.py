"""Accounts a person can trust (issue 17 §2): sessions they can see and end, two-factor sign-in,
operator-issued password reset links.

- `web_session.public_id`: a random handle naming a session on the Account page (the id hash is
  never put in a page); `last_seen_at`: the last request made with it (updated at most once a
  minute), NULL until then.
- `user_totp`: a user's TOTP secret (RFC 6238), sealed with AES-256-GCM under a key derived from
  the keyring (services/two_factor.py), bound to the user; `confirmed_at` NULL while enrolment
  waits for the first code; `last_step` the time step of the last accepted code (a code is
  accepted once, RFC 6238 §5.2).
- `recovery_code`: one-time recovery codes, SHA-256 hashes only; `used_at` once spent.
- `password_reset`: one-time reset links an operator issued; SHA-256 hash of the token only.
"""

import secrets

from . import execute_all

STATEMENTS = [
    'ALTER TABLE "web_session" ADD COLUMN "public_id" VARCHAR(32) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "web_session" ADD COLUMN "last_seen_at" REAL',
    'CREATE TABLE "user_totp" ("user_id" INTEGER NOT NULL PRIMARY KEY, "secret_sealed" BLOB NOT NULL, '
    '"created_at" REAL NOT NULL, "confirmed_at" REAL, "last_step" INTEGER, '
    'FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE TABLE "recovery_code" ("id" INTEGER NOT NULL PRIMARY KEY, "user_id" INTEGER NOT NULL, '
    '"code_hash" VARCHAR(64) NOT NULL, "created_at" REAL NOT NULL, "used_at" REAL, '
    'FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "recovery_code_code_hash" ON "recovery_code" ("code_hash")',
    'CREATE INDEX "recovery_code_user_id" ON "recovery_code" ("user_id")',
    'CREATE TABLE "password_reset" ("id" INTEGER NOT NULL PRIMARY KEY, "user_id" INTEGER NOT NULL, '
    '"token_hash" VARCHAR(64) NOT NULL, "created_at" REAL NOT NULL, "expires_at" REAL NOT NULL, '
    '"used_at" REAL, "created_by" VARCHAR(300) NOT NULL, '
    'FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "password_reset_token_hash" ON "password_reset" ("token_hash")',
    'CREATE INDEX "password_reset_user_id" ON "password_reset" ("user_id")',
]


def up(store):
    execute_all(store, STATEMENTS)  # translated for PostgreSQL when that is the engine
    # Sessions open at upgrade time get their handle here, from Python, so the same step runs on
    # SQLite and PostgreSQL (SQLite's randomblob() has no PostgreSQL twin).
    for (session_id,) in store.db.execute_sql('SELECT "id_hash" FROM "web_session"').fetchall():
        store.db.execute_sql('UPDATE "web_session" SET "public_id" = ? WHERE "id_hash" = ?',
                             (secrets.token_hex(12), session_id))
