"""Limits and spend (issue 13): what the user allows, and the shared counters that enforce it.

- `grant_limit`: per-grant caps chosen by the user (NULL = no limit). Spend is in integer
  micro-dollars (1 USD = 1,000,000; 1 USD per million tokens = 1 micro-dollar per token, so
  price-table figures multiply token counts directly and no float reaches the counters).
- `connection_limit`: caps on a whole provider connection, across all apps.
- `connection_price`: prices the user set for their own endpoints (model '' = every model).
- `limit_counter`: used amount per (scope, owner, metric, period window); one row per window.
- `limit_lease`: budget a server process holds out of a counter (services/limits.py). Others
  subtract live leases from what is free; an expired lease (a crashed process) stops counting.

Changes to the first three bump the cache epoch, so servers reload a user's new limits within
a poll (same mechanism as m0006).
"""

from . import execute_all

STATEMENTS = [
    'CREATE TABLE "grant_limit" ("grant_id" INTEGER NOT NULL PRIMARY KEY, '
    '"spend_per_day_micro_usd" INTEGER, "spend_per_week_micro_usd" INTEGER, '
    '"spend_per_month_micro_usd" INTEGER, "tokens_per_day" INTEGER, "requests_per_minute" INTEGER, '
    '"updated_at" REAL NOT NULL, '
    'FOREIGN KEY ("grant_id") REFERENCES "grant" ("id") ON DELETE CASCADE)',
    'CREATE TABLE "connection_limit" ("provider_id" INTEGER NOT NULL PRIMARY KEY, '
    '"spend_per_day_micro_usd" INTEGER, "spend_per_week_micro_usd" INTEGER, '
    '"spend_per_month_micro_usd" INTEGER, "updated_at" REAL NOT NULL, '
    'FOREIGN KEY ("provider_id") REFERENCES "provider_connection" ("id") ON DELETE CASCADE)',
    'CREATE TABLE "connection_price" ("id" INTEGER NOT NULL PRIMARY KEY, "provider_id" INTEGER NOT NULL, '
    '"model" VARCHAR(200) NOT NULL, "input_usd_per_mtok" REAL NOT NULL, "cached_input_usd_per_mtok" REAL, '
    '"output_usd_per_mtok" REAL NOT NULL, '
    'FOREIGN KEY ("provider_id") REFERENCES "provider_connection" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "connection_price_provider_model" ON "connection_price" ("provider_id", "model")',
    'CREATE TABLE "limit_counter" ("id" INTEGER NOT NULL PRIMARY KEY, "scope" VARCHAR(12) NOT NULL, '
    '"owner_id" INTEGER NOT NULL, "metric" VARCHAR(12) NOT NULL, "period" VARCHAR(8) NOT NULL, '
    '"period_start" INTEGER NOT NULL, "period_end" INTEGER NOT NULL, "used" INTEGER NOT NULL)',
    'CREATE UNIQUE INDEX "limit_counter_window" ON "limit_counter" '
    '("scope", "owner_id", "metric", "period", "period_start")',
    'CREATE INDEX "limit_counter_period_end" ON "limit_counter" ("period_end")',
    'CREATE TABLE "limit_lease" ("id" INTEGER NOT NULL PRIMARY KEY, "counter_id" INTEGER NOT NULL, '
    '"holder" VARCHAR(32) NOT NULL, "amount" INTEGER NOT NULL, "expires_at" REAL NOT NULL, '
    'FOREIGN KEY ("counter_id") REFERENCES "limit_counter" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "limit_lease_counter_holder" ON "limit_lease" ("counter_id", "holder")',
] + [
    f'CREATE TRIGGER "epoch_{table}_{event.lower()}" AFTER {event} ON "{table}" '
    'BEGIN UPDATE "cache_epoch" SET "n" = "n" + 1 WHERE "id" = 1; END'
    for table in ("grant_limit", "connection_limit", "connection_price")
    for event in ("INSERT", "UPDATE", "DELETE")
]


def up(store):
    execute_all(store, STATEMENTS)
