"""Accounts, dashboard sessions, provider connections and the audit log.

Migrations are frozen SQL, not `create_tables(Model)`: a migration must create the schema
of its own time, whatever the models look like later.
"""

from . import execute_all

STATEMENTS = [
    'CREATE TABLE "user" ("id" INTEGER NOT NULL PRIMARY KEY, "email" VARCHAR(254) NOT NULL, '
    '"password_hash" VARCHAR(200), "created_at" REAL NOT NULL, "last_login_at" REAL, "disabled" INTEGER NOT NULL)',
    'CREATE UNIQUE INDEX "user_email" ON "user" ("email")',
    'CREATE TABLE "web_session" ("id_hash" VARCHAR(64) NOT NULL PRIMARY KEY, "user_id" INTEGER NOT NULL, '
    '"created_at" REAL NOT NULL, "expires_at" REAL NOT NULL, "ip" VARCHAR(64) NOT NULL, '
    '"user_agent" VARCHAR(200) NOT NULL, FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "web_session_user_id" ON "web_session" ("user_id")',
    'CREATE TABLE "provider_connection" ("id" INTEGER NOT NULL PRIMARY KEY, "uid" VARCHAR(32) NOT NULL, '
    '"user_id" INTEGER NOT NULL, "kind" VARCHAR(40) NOT NULL, "name" VARCHAR(100) NOT NULL, '
    '"base_url" VARCHAR(500) NOT NULL, "default_model" VARCHAR(200) NOT NULL, "options" TEXT NOT NULL, '
    '"is_default" INTEGER NOT NULL, "key_ciphertext" BLOB, "wrapped_dek" BLOB, "kek_id" VARCHAR(64), '
    '"key_tail" VARCHAR(16) NOT NULL, "models_json" TEXT NOT NULL, "last_test_ok" INTEGER, "last_test_at" REAL, '
    '"created_at" REAL NOT NULL, "updated_at" REAL NOT NULL, '
    'FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "provider_connection_uid" ON "provider_connection" ("uid")',
    'CREATE INDEX "provider_connection_user_id" ON "provider_connection" ("user_id")',
    'CREATE INDEX "provider_connection_kek_id" ON "provider_connection" ("kek_id")',
    'CREATE TABLE "audit_event" ("id" INTEGER NOT NULL PRIMARY KEY, "created_at" REAL NOT NULL, '
    '"actor" VARCHAR(300) NOT NULL, "action" VARCHAR(60) NOT NULL, "target" VARCHAR(300) NOT NULL, '
    '"detail" TEXT NOT NULL, "ip" VARCHAR(64) NOT NULL)',
    'CREATE INDEX "audit_event_created_at" ON "audit_event" ("created_at")',
    'CREATE INDEX "audit_event_action" ON "audit_event" ("action")',
]


def up(store):
    execute_all(store, STATEMENTS)
