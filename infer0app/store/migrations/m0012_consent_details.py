"""Consent that need not be repeated, and the device authorization grant (issue 16 §2, §4).

- `grant.consent_redirect_uri` / `grant.consent_redirect_uris`: the redirect URI the user
  approved, and the app's registered list (JSON) at that moment. A later authorization
  request with the same scope and redirect URI skips the consent page only while the app's
  registered list is still the same (NULL: never approved through a redirect, e.g. a device).
- `device_authorization`: RFC 8628 device codes. `device_code` and `user_code` are stored
  only as SHA-256 hashes (the user code normalized: upper case, no dash). `status` is
  pending | approved | denied; an approval stores the hash of the authorization code it
  created (`code_hash`), which the polling client then redeems like any code (single use).
  `interval` grows by 5 s at each `slow_down` (RFC 8628 §3.5); `last_poll_at` is the previous poll.

(The app-detail columns of the consent page, logo_uri, policy_uri, tos_uri, verified, …, come
with m0011_client_registration.)
"""

from . import execute_all

STATEMENTS = [
    'ALTER TABLE "grant" ADD COLUMN "consent_redirect_uri" TEXT',
    'ALTER TABLE "grant" ADD COLUMN "consent_redirect_uris" TEXT',
    'CREATE TABLE "device_authorization" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"device_code_hash" VARCHAR(64) NOT NULL, "user_code_hash" VARCHAR(64) NOT NULL, '
    '"app_id" INTEGER NOT NULL, "scope" VARCHAR(200) NOT NULL, "status" VARCHAR(10) NOT NULL, '
    '"user_id" INTEGER, "code_hash" VARCHAR(64), "interval" INTEGER NOT NULL, "last_poll_at" REAL, '
    '"created_at" REAL NOT NULL, "expires_at" REAL NOT NULL, '
    'FOREIGN KEY ("app_id") REFERENCES "oauth_app" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "device_authorization_device_code_hash" ON "device_authorization" ("device_code_hash")',
    'CREATE UNIQUE INDEX "device_authorization_user_code_hash" ON "device_authorization" ("user_code_hash")',
    'CREATE INDEX "device_authorization_expires_at" ON "device_authorization" ("expires_at")',
]


def up(store):
    execute_all(store, STATEMENTS)
