"""`usage_daily.cap_refusals`: how many of a rolled-up day's calls a limit refused (error code
`grant_budget_exceeded` or `grant_rate_limited`, services/limit_status.CAP_REFUSAL_CODES).

The roll-up keeps the HTTP status but not the error code, so after 30 days the Usage page could
only count every 402 and 429 as "refused by a limit", a provider's own rate limit included.
Days rolled up before this migration keep 0 here (their codes are gone).
"""

from . import execute_all

STATEMENTS = [
    'ALTER TABLE "usage_daily" ADD COLUMN "cap_refusals" INTEGER NOT NULL DEFAULT 0',
]


def up(store):
    execute_all(store, STATEMENTS)  # translated for PostgreSQL when that is the engine
