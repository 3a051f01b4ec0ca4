"""Running servers announce themselves: pid, host, heartbeat and the KEK ids they have loaded.

`infer0 kek rotate` (CLI or TUI) reads this table to know when every running server has
picked up a new key-encryption key before making it primary (services/runtime.py).
"""

from . import execute_all

STATEMENTS = [
    'CREATE TABLE "server_instance" ("instance_id" VARCHAR(32) NOT NULL PRIMARY KEY, "pid" INTEGER NOT NULL, '
    '"host" VARCHAR(255) NOT NULL, "version" VARCHAR(40) NOT NULL, "started_at" REAL NOT NULL, '
    '"heartbeat_at" REAL NOT NULL, "kek_ids" TEXT NOT NULL, "primary_kek" VARCHAR(64) NOT NULL)',
    'CREATE INDEX "server_instance_heartbeat_at" ON "server_instance" ("heartbeat_at")',
]


def up(store):
    execute_all(store, STATEMENTS)
