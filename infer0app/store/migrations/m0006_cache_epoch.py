"""A counter bumped by triggers whenever something a running server may have cached changes.

Servers cache resolved access tokens and opened provider targets in memory. Any write that
could invalidate them (a revocation, a disabled user or app, a changed grant or provider
connection), from any process (the server, the CLI, the admin TUI), bumps `cache_epoch.n`
inside the same transaction, because the triggers do it: no write path can forget. Each
server polls the counter a few times a second and drops its caches when it moves.

On PostgreSQL the same triggers (row level) call `infer0_bump_cache_epoch()`, which bumps the
counter in the writing transaction and NOTIFYs `infer0_cache_epoch` on commit (store/postgres.py).
"""

from . import execute_all

WATCHED = [
    ('"grant"', "UPDATE OF revoked_at, provider_id, model, allow_model_choice, user_id, app_id"),
    ('"grant"', "DELETE"),
    ('"token"', "UPDATE OF revoked_at, access_hash, access_expires_at"),
    ('"token"', "DELETE"),
    ('"user"', "UPDATE OF disabled"),
    ('"user"', "DELETE"),
    ('"oauth_app"', "UPDATE OF disabled, client_id"),
    ('"oauth_app"', "DELETE"),
    ('"provider_connection"', "UPDATE"),
    ('"provider_connection"', "DELETE"),
]

STATEMENTS = [
    'CREATE TABLE "cache_epoch" ("id" INTEGER NOT NULL PRIMARY KEY, "n" INTEGER NOT NULL)',
    'INSERT INTO "cache_epoch" ("id", "n") VALUES (1, 0)',
] + [
    f'CREATE TRIGGER "epoch_{table.strip(chr(34))}_{event.split()[0].lower()}" AFTER {event} ON {table} '
    'BEGIN UPDATE "cache_epoch" SET "n" = "n" + 1 WHERE "id" = 1; END'
    for table, event in WATCHED
]


def up(store):
    if store.is_postgres:  # PostgreSQL triggers call a function (it also NOTIFYs listeners)
        from ..postgres import EPOCH_FUNCTION
        store.db.execute_sql(EPOCH_FUNCTION)
    execute_all(store, STATEMENTS)
