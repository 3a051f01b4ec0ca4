"""Usage kept compact (issue 13): raw `usage_event` rows older than `--usage-raw-days` are rolled
up into one `usage_daily` row per (UTC day, user, app, grant, provider kind, model, status)
by services/usage_rollup.py. `app_id` / `grant_id` 0 = none (so the unique key needs no NULLs).
Status stays in the key: errors by code and refused calls (402/429) survive the roll-up.
"""

from . import execute_all

STATEMENTS = [
    'CREATE TABLE "usage_daily" ("id" INTEGER NOT NULL PRIMARY KEY, "day" VARCHAR(10) NOT NULL, '
    '"user_id" INTEGER NOT NULL, "app_id" INTEGER NOT NULL, "grant_id" INTEGER NOT NULL, '
    '"provider_kind" VARCHAR(40) NOT NULL, "model" VARCHAR(200) NOT NULL, "status" INTEGER NOT NULL, '
    '"requests" INTEGER NOT NULL, "prompt_tokens" INTEGER NOT NULL, "completion_tokens" INTEGER NOT NULL, '
    '"cached_tokens" INTEGER NOT NULL)',
    'CREATE UNIQUE INDEX "usage_daily_key" ON "usage_daily" '
    '("day", "user_id", "app_id", "grant_id", "provider_kind", "model", "status")',
    'CREATE INDEX "usage_daily_user_day" ON "usage_daily" ("user_id", "day")',
    'CREATE INDEX "usage_daily_app_day" ON "usage_daily" ("app_id", "day")',
]


def up(store):
    execute_all(store, STATEMENTS)
