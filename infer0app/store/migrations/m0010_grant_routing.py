"""Per-grant embedding model and user-chosen fallback connections (issue 14 §3).

- `grant.embedding_model`: the model `POST /v1/embeddings` uses for this grant ('' = the
  connection kind's default embedding model, gateway/providers/kinds.py).
- `grant_fallback`: connections a call moves on to, in `position` order, when the grant's own
  connection fails before any byte reached the app. Deleting a connection removes its rows.

Both are read by running servers' caches, so changes bump the cache epoch (as m0006).
"""

from . import execute_all

STATEMENTS = [
    'ALTER TABLE "grant" ADD COLUMN "embedding_model" VARCHAR(200) NOT NULL DEFAULT \'\'',
    'CREATE TABLE "grant_fallback" ("id" INTEGER NOT NULL PRIMARY KEY, "grant_id" INTEGER NOT NULL, '
    '"provider_id" INTEGER NOT NULL, "position" INTEGER NOT NULL, '
    'FOREIGN KEY ("grant_id") REFERENCES "grant" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("provider_id") REFERENCES "provider_connection" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "grant_fallback_grant_provider" ON "grant_fallback" ("grant_id", "provider_id")',
    'CREATE INDEX "grant_fallback_provider_id" ON "grant_fallback" ("provider_id")',
    'CREATE TRIGGER "epoch_grant_embedding_update" AFTER UPDATE OF embedding_model ON "grant" '
    'BEGIN UPDATE "cache_epoch" SET "n" = "n" + 1 WHERE "id" = 1; END',
] + [
    f'CREATE TRIGGER "epoch_grant_fallback_{event.lower()}" AFTER {event} ON "grant_fallback" '
    'BEGIN UPDATE "cache_epoch" SET "n" = "n" + 1 WHERE "id" = 1; END'
    for event in ("INSERT", "UPDATE", "DELETE")
]


def up(store):
    execute_all(store, STATEMENTS)
