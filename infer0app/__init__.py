"""infer0: bring-your-own-provider AI inference over OAuth 2.0, in one binary."""

__version__ = "0.1.0"

# peewee imports psycopg at its own import whenever it is installed: ~0.4 s of every start,
# SQLite or not. Hide it from that eager import; store/postgres.py imports it when a PostgreSQL
# URL is given (import_psycopg). A process that imported psycopg already keeps it.
import sys as _sys  # noqa: E402

if "peewee" not in _sys.modules:
    _sys.modules.setdefault("psycopg", None)
