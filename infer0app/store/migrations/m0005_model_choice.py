"""A grant may let its app pick among the connection's models (default: no, the user's choice rules)."""

from . import execute_all

STATEMENTS = [
    'ALTER TABLE "grant" ADD COLUMN "allow_model_choice" INTEGER NOT NULL DEFAULT 0',
]


def up(store):
    execute_all(store, STATEMENTS)
