"""Dynamic client registration (RFC 7591/7592), native apps, and secret rotation with overlap.

- `oauth_app.owner_id` becomes nullable: a dynamically registered client has no owning user.
  SQLite cannot drop a NOT NULL with ALTER TABLE; the rebuild procedure would need foreign keys
  off (impossible inside the migration's transaction) and would drop columns other migrations
  add. So this uses SQLite's documented procedure for removing a NOT NULL constraint (ALTER
  TABLE page, "making other kinds of table schema changes"): rewrite the table's SQL in
  sqlite_schema under writable_schema and bump schema_version, in the same transaction. The
  on-disk format of the rows does not change. (PostgreSQL: a plain ALTER COLUMN … DROP NOT NULL.)
- new columns: `origin` ('dashboard' | 'dynamic'), `verified` (set by an operator), the RFC 7591
  metadata shown to users (`logo_uri`, `policy_uri`, `tos_uri`; `client_uri` is `homepage_url`),
  `software_id`, `software_version`, `token_endpoint_auth_method` ('' = either secret method),
  `registration_token_hash` (SHA-256 of the `i0_rat_` registration access token),
  `registered_from` (the registering address), and the previous client secret kept during a
  rotation's overlap (`previous_secret_hash`, `previous_secret_expires_at`).
"""

from . import execute_all

OWNER_NOT_NULL = '"owner_id" INTEGER NOT NULL'
OWNER_NULLABLE = '"owner_id" INTEGER'

STATEMENTS = [
    'ALTER TABLE "oauth_app" ADD COLUMN "origin" VARCHAR(12) NOT NULL DEFAULT \'dashboard\'',
    'ALTER TABLE "oauth_app" ADD COLUMN "verified" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "oauth_app" ADD COLUMN "logo_uri" VARCHAR(500) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "oauth_app" ADD COLUMN "policy_uri" VARCHAR(500) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "oauth_app" ADD COLUMN "tos_uri" VARCHAR(500) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "oauth_app" ADD COLUMN "software_id" VARCHAR(100) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "oauth_app" ADD COLUMN "software_version" VARCHAR(100) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "oauth_app" ADD COLUMN "token_endpoint_auth_method" VARCHAR(30) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "oauth_app" ADD COLUMN "registration_token_hash" VARCHAR(64)',
    'ALTER TABLE "oauth_app" ADD COLUMN "registered_from" VARCHAR(64) NOT NULL DEFAULT \'\'',
    'ALTER TABLE "oauth_app" ADD COLUMN "previous_secret_hash" VARCHAR(64)',
    'ALTER TABLE "oauth_app" ADD COLUMN "previous_secret_expires_at" REAL',
    'CREATE UNIQUE INDEX "oauth_app_registration_token_hash" ON "oauth_app" ("registration_token_hash")',
]


def _owner_nullable(store):
    db = store.db
    (sql,) = db.execute_sql('SELECT sql FROM sqlite_schema WHERE type = \'table\' AND name = \'oauth_app\'').fetchone()
    if OWNER_NOT_NULL not in sql:
        raise RuntimeError("oauth_app does not have the owner_id column m0002 created; refusing to rewrite it")
    (version,) = db.execute_sql("PRAGMA schema_version").fetchone()
    db.execute_sql("PRAGMA writable_schema = ON")
    try:
        db.execute_sql('UPDATE sqlite_schema SET sql = ? WHERE type = \'table\' AND name = \'oauth_app\'',
                       (sql.replace(OWNER_NOT_NULL, OWNER_NULLABLE, 1),))
        db.execute_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        db.execute_sql("PRAGMA writable_schema = OFF")


def up(store):
    if store.is_postgres:  # PostgreSQL drops the constraint itself
        store.db.execute_sql('ALTER TABLE "oauth_app" ALTER COLUMN "owner_id" DROP NOT NULL')
    else:
        _owner_nullable(store)
    execute_all(store, STATEMENTS)
