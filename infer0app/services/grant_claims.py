"""Claim a code or a refresh token and issue its tokens: three writes, one statement on PostgreSQL.

A code exchange and a refresh rotation each (1) claim the code or the old refresh token with a
conditional `UPDATE … RETURNING grant_id, code_hash` (the one-winner race: only one caller gets
a row back), (2) mark the grant used, failing if it was revoked meanwhile, and (3) insert the new
token row. On SQLite those are three statements in-process. On PostgreSQL each statement is a
network round trip taken while the write lock is held, so they are one statement with
data-modifying CTEs instead: the same three writes, in one transaction, with the same row locks
(the claim's `UPDATE` locks the code or token row, the grant's `UPDATE` re-checks `revoked_at`
under its row lock), and one round trip.
"""

from __future__ import annotations

from .errors import ServiceError

_TOKEN_COLUMNS = ('grant_id, access_hash, refresh_hash, scope, access_expires_at, refresh_expires_at, code_hash, '
                  'parent_id, created_at')

# {claim} returns (grant_id, code_hash) for at most one row. Parameters: the claim's, then
# now (the grant's last_used_at), access_hash, refresh_hash, scope, access_expires_at,
# refresh_expires_at, parent_id, created_at. Result: no row (nothing claimed), or
# (grant_id, new token id, NULL when the grant was revoked: the caller raises and rolls back).
_CLAIM_TOUCH_INSERT = (
    'WITH claimed AS ({claim}), '
    'touched AS (UPDATE "grant" SET last_used_at = ? FROM claimed '
    'WHERE "grant".id = claimed.grant_id AND "grant".revoked_at IS NULL RETURNING "grant".id), '
    f'inserted AS (INSERT INTO "token" ({_TOKEN_COLUMNS}) '
    'SELECT touched.id, ?, ?, ?, ?, ?, claimed.code_hash, ?, ? FROM touched, claimed RETURNING id) '
    'SELECT claimed.grant_id, (SELECT id FROM inserted) FROM claimed')

_STATEMENTS: dict[str, str] = {}


def claim_and_issue_pg(store, claim_sql: str, claim_params: tuple, token_values: tuple,
                       gone: type[ServiceError]) -> tuple[int, int] | None:
    """PostgreSQL: run `claim_sql` (an `UPDATE … RETURNING grant_id, code_hash`), touch the grant and
    insert the token row `token_values` = (access_hash, refresh_hash, scope, access_expires_at,
    refresh_expires_at, parent_id, created_at) in one statement. Returns (grant_id, token id), or
    None when nothing was claimed; raises `gone` when the claim won but the grant was revoked (the
    caller's `store.write()` then rolls the claim back). Call inside `store.write()`."""
    sql = _STATEMENTS.get(claim_sql)
    if sql is None:
        sql = _STATEMENTS[claim_sql] = _CLAIM_TOUCH_INSERT.format(claim=claim_sql)
    now = token_values[-1]
    row = store.db.execute_sql(sql, (*claim_params, now, *token_values)).fetchone()
    if row is None:
        return None
    grant_id, token_id = row
    if token_id is None:
        raise gone("This authorization was revoked.")
    return grant_id, token_id
