"""OAuth clients, grants (a user's authorization of an app), authorization codes, tokens."""

from . import execute_all

STATEMENTS = [
    'CREATE TABLE "oauth_app" ("id" INTEGER NOT NULL PRIMARY KEY, "client_id" VARCHAR(64) NOT NULL, '
    '"client_secret_hash" VARCHAR(64), "owner_id" INTEGER NOT NULL, "name" VARCHAR(100) NOT NULL, '
    '"homepage_url" VARCHAR(500) NOT NULL, "redirect_uris" TEXT NOT NULL, "is_public" INTEGER NOT NULL, '
    '"disabled" INTEGER NOT NULL, "created_at" REAL NOT NULL, '
    'FOREIGN KEY ("owner_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "oauth_app_client_id" ON "oauth_app" ("client_id")',
    'CREATE INDEX "oauth_app_owner_id" ON "oauth_app" ("owner_id")',
    'CREATE TABLE "grant" ("id" INTEGER NOT NULL PRIMARY KEY, "user_id" INTEGER NOT NULL, '
    '"app_id" INTEGER NOT NULL, "provider_id" INTEGER, "model" VARCHAR(200) NOT NULL, '
    '"scope" VARCHAR(200) NOT NULL, "created_at" REAL NOT NULL, "last_used_at" REAL, "revoked_at" REAL, '
    'FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("app_id") REFERENCES "oauth_app" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("provider_id") REFERENCES "provider_connection" ("id") ON DELETE SET NULL)',
    'CREATE INDEX "grant_user_id" ON "grant" ("user_id")',
    'CREATE INDEX "grant_app_id" ON "grant" ("app_id")',
    'CREATE INDEX "grant_provider_id" ON "grant" ("provider_id")',
    'CREATE INDEX "grant_revoked_at" ON "grant" ("revoked_at")',
    'CREATE TABLE "authorization_code" ("code_hash" VARCHAR(64) NOT NULL PRIMARY KEY, '
    '"grant_id" INTEGER NOT NULL, "app_id" INTEGER NOT NULL, "redirect_uri" TEXT NOT NULL, '
    '"scope" VARCHAR(200) NOT NULL, "code_challenge" VARCHAR(128), "code_challenge_method" VARCHAR(10), '
    '"created_at" REAL NOT NULL, "expires_at" REAL NOT NULL, "used_at" REAL, '
    'FOREIGN KEY ("grant_id") REFERENCES "grant" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("app_id") REFERENCES "oauth_app" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "authorization_code_grant_id" ON "authorization_code" ("grant_id")',
    'CREATE INDEX "authorization_code_app_id" ON "authorization_code" ("app_id")',
    'CREATE TABLE "token" ("id" INTEGER NOT NULL PRIMARY KEY, "grant_id" INTEGER NOT NULL, '
    '"access_hash" VARCHAR(64) NOT NULL, "refresh_hash" VARCHAR(64), "scope" VARCHAR(200) NOT NULL, '
    '"access_expires_at" REAL NOT NULL, "refresh_expires_at" REAL, "code_hash" VARCHAR(64), '
    '"parent_id" INTEGER, "refresh_used_at" REAL, "revoked_at" REAL, "created_at" REAL NOT NULL, '
    'FOREIGN KEY ("grant_id") REFERENCES "grant" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("parent_id") REFERENCES "token" ("id") ON DELETE SET NULL)',
    'CREATE INDEX "token_grant_id" ON "token" ("grant_id")',
    'CREATE UNIQUE INDEX "token_access_hash" ON "token" ("access_hash")',
    'CREATE UNIQUE INDEX "token_refresh_hash" ON "token" ("refresh_hash")',
    'CREATE INDEX "token_code_hash" ON "token" ("code_hash")',
    'CREATE INDEX "token_parent_id" ON "token" ("parent_id")',
]


def up(store):
    execute_all(store, STATEMENTS)
