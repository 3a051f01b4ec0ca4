"""A grant may let its app pick among the connection's models (default: no, the user's choice rules)."""

STATEMENTS = [
    'ALTER TABLE "grant" ADD COLUMN "allow_model_choice" INTEGER NOT NULL DEFAULT 0',
]


def up(store):
    for sql in STATEMENTS:
        store.db.execute_sql(sql)
