"""`usage_event.error_code` (issue 17): why a failed call failed, for the operator's "recent
errors" view: the `code` of the OpenAI-style error object infer0 answered with (or its `type`
when it has no code, e.g. `rate_limit_exceeded`, `provider_error`), `client_closed` for a client
that went away; '' for a success. Never any of the request's or answer's content.

(Numbered 17 after the issue, leaving 13-16 to migrations written alongside it.)
"""

from . import execute_all

STATEMENTS = [
    'ALTER TABLE "usage_event" ADD COLUMN "error_code" VARCHAR(60) NOT NULL DEFAULT \'\'',
]


def up(store):
    execute_all(store, STATEMENTS)  # translated for PostgreSQL when that is the engine
