"""Usage events recorded by the gateway (off the request path, in batches)."""

from . import execute_all

STATEMENTS = [
    'CREATE TABLE "usage_event" ("id" INTEGER NOT NULL PRIMARY KEY, "created_at" REAL NOT NULL, '
    '"user_id" INTEGER NOT NULL, "app_id" INTEGER, "grant_id" INTEGER, "provider_kind" VARCHAR(40) NOT NULL, '
    '"model" VARCHAR(200) NOT NULL, "prompt_tokens" INTEGER NOT NULL, "completion_tokens" INTEGER NOT NULL, '
    '"cached_tokens" INTEGER NOT NULL, "status" INTEGER NOT NULL, "latency_ms" REAL NOT NULL, '
    '"streamed" INTEGER NOT NULL)',
    'CREATE INDEX "usage_event_created_at" ON "usage_event" ("created_at")',
    'CREATE INDEX "usage_event_user_id" ON "usage_event" ("user_id")',
    'CREATE INDEX "usage_event_app_id" ON "usage_event" ("app_id")',
    'CREATE INDEX "usage_event_grant_time" ON "usage_event" ("grant_id", "created_at")',
]


def up(store):
    execute_all(store, STATEMENTS)
