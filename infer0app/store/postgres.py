"""PostgreSQL as infer0's second backend (several instances sharing one database).

SQLite stays the embedded default. With `--database-url postgresql://…` the same models,
services and numbered migrations run on PostgreSQL through psycopg 3 (peewee's
`PostgresqlDatabase(prefer_psycopg3=True)`). This module holds what differs:

- `connect_database(url, password)`: the peewee database, psycopg imported only here (the
  binary keeps working on a machine without PostgreSQL or libpq);
- `pg_sql(text)`: the hand-written statements of services/ are SQLite dialect (`?` parameters,
  `group_concat`, `date(x, 'unixepoch')`); they are translated once each and cached;
- `pg_ddl(statement)`: the frozen migrations' SQLite DDL in PostgreSQL's terms (see its doc);
- the advisory lock keys: one for migrations (session lock held across all of them, so
  instances starting at once apply each exactly once) and one taken by every write
  transaction (`store.write()`), which keeps SQLite's "one writer at a time" semantics that
  every read-modify-write in services/ was written against, across processes and hosts.
  Hot races do not rely on it alone: code redemption and refresh rotation are conditional
  `UPDATE … RETURNING`s, correct under row locks by themselves.

The password never appears in a log line or an error: `redact(url)` is what is shown.
"""

from __future__ import annotations

import re
import sys
import uuid
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import peewee

# pg_advisory_lock keys (64-bit; any fixed numbers unlikely to collide with other software).
MIGRATION_LOCK = 0x1F0E_0001
WRITE_LOCK = 0x1F0E_0002
ROTATION_LOCK = 0x1F0E_0003  # session lock held by a KEK rotation (services/kek_rotation.py)

# Peewee's field types on PostgreSQL, widened where SQLite's are wider than PostgreSQL's
# defaults: SQLite's REAL is a double (peewee's FloatField would be a 4-byte REAL here, which
# holds an epoch time only to ~2 minutes) and its INTEGER is 64-bit (spend counters in
# micro-dollars pass 2**31 at ~2,147 USD).
FIELD_TYPES = {"FLOAT": "DOUBLE PRECISION", "INT": "BIGINT", "AUTO": "BIGSERIAL"}

# Columns m0001-m0012 declared INTEGER that peewee models as BooleanField. Frozen with the
# migrations: a new boolean column in a later migration is added here in the same commit
# (tests/unit/test_migrations_postgres.py compares the result with the models).
BOOLEAN_COLUMNS = frozenset({"disabled", "is_public", "is_default", "last_test_ok", "verified",
                             "allow_model_choice", "streamed"})

NOTIFY_CHANNEL = "infer0_cache_epoch"

EPOCH_FUNCTION = (
    'CREATE OR REPLACE FUNCTION "infer0_bump_cache_epoch"() RETURNS trigger LANGUAGE plpgsql AS $$ '
    'BEGIN UPDATE "cache_epoch" SET "n" = "n" + 1 WHERE "id" = 1; '
    f"PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$")


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL with any password replaced by ***, for logs and messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://***"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit((parts.scheme, f"{user}@{netloc[1]}", parts.path, parts.query, parts.fragment))


# user:PASSWORD@ in a URL, and password=... in a conninfo string, wherever a message quotes them.
_URL_PASSWORD = re.compile(r"(://[^:/@\s\"']*:)[^@\s\"']*@")
_KEY_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def open_failure(label: str, url: str, password: str | None, exc: BaseException) -> str:
    """"Cannot open database LABEL: <the driver's first line>", with every password in it
    replaced by ***: psycopg quotes a URL it cannot parse whole, password included (the
    message reached the terminal and the server's log)."""
    text = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    for secret in (password, _password_of(url)):
        if secret:
            text = text.replace(secret, "***")
            # a driver that split the URL elsewhere quotes pieces of it ('ss@word' of 'p@ss@word')
            for piece in re.split(r"[@\s\"']+", secret):
                if len(piece) >= 3:
                    text = text.replace(piece, "***")
    text = _KEY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))
    return f"Cannot open database {label}: {text}"


def _password_of(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:  # unparsable: read user:password@ by hand, up to the last "@"
        userinfo, at, _host = url.partition("://")[2].rpartition("@")
        user, colon, password = userinfo.partition(":")
        return password if at and colon and password else None


def _register_loaders(conn) -> None:
    """SUM() of an integer column is NUMERIC on PostgreSQL (Decimal in Python); SQLite gives
    ints and floats, which services/ and JSON output expect."""
    from psycopg.types.numeric import NumericLoader

    class IntOrFloatLoader(NumericLoader):
        def load(self, data):
            value = super().load(data)
            return int(value) if value == value.to_integral_value() else float(value)

    conn.adapters.register_loader("numeric", IntOrFloatLoader)
    _register_text_dumpers(conn)


def _register_text_dumpers(conn) -> None:
    """PostgreSQL text cannot hold NUL (U+0000): psycopg refuses a parameter with one
    (DataError), where SQLite simply compares or stores it. Such a value comes only from
    input (a form's client_id=%00, a JSON string with \\u0000), and no stored value has one, so it is
    sent with U+FFFD REPLACEMENT CHARACTER in its place (what aiohttp itself puts for undecodable
    input): a lookup finds nothing, as on SQLite, instead of an unhandled DataError (a 500).
    Validation still refuses NUL wherever a value is kept (names, emails, URIs)."""
    from psycopg.types.string import StrDumperUnknown  # the default for str (text format)

    class NulFreeDumper(StrDumperUnknown):
        def dump(self, obj):
            if "\x00" in obj:
                obj = obj.replace("\x00", "\ufffd")
            return obj.encode(self._encoding)

    conn.adapters.register_dumper(str, NulFreeDumper)


def import_psycopg():
    """psycopg, imported now (infer0app/__init__.py keeps peewee from importing it at start).
    ImportError when it is not installed."""
    if "psycopg" in sys.modules and sys.modules["psycopg"] is None:
        del sys.modules["psycopg"]
    import psycopg
    return psycopg


class _Psycopg3Adapter(peewee.Psycopg3Adapter):
    """peewee's psycopg 3 adapter over a psycopg imported on demand, not at peewee's import."""

    def __init__(self):
        psycopg = import_psycopg()
        from psycopg.pq import TransactionStatus
        from psycopg.types.json import Json, Jsonb
        super().__init__()
        self._psycopg, self._status = psycopg, TransactionStatus
        self.json_type, self.jsonb_type = Json, Jsonb
        self.txn_idle, self.txn_inerror = TransactionStatus.IDLE, TransactionStatus.INERROR
        self.txn_unknown = TransactionStatus.UNKNOWN

    def check_driver(self):
        pass

    def get_binary_type(self):
        return self._psycopg.Binary

    def connect(self, db, **params):
        params.setdefault("conninfo", db.database)
        return self._psycopg.connect(**params)

    def server_side_cursor(self, conn):
        in_txn = self.txn_status(conn) == self._status.INTRANS
        return conn.cursor(name=str(uuid.uuid1()), withhold=not in_txn)


class Infer0Postgres(peewee.PostgresqlDatabase):
    """peewee's PostgreSQL database, taking the services' SQLite-dialect raw SQL too."""

    def init(self, database, **kwargs):
        super().init(database, **kwargs)
        self._adapter = _Psycopg3Adapter()

    def _connect(self):
        conn = super()._connect()
        _register_loaders(conn)
        return conn

    def execute_sql(self, sql, params=None):
        if "?" in sql:
            sql = pg_sql(sql)
        return super().execute_sql(sql, params)


class RawConnection:
    """sqlite3.Connection's execute/executemany over a peewee PostgreSQL database (store.raw())."""

    def __init__(self, db: peewee.Database):
        self._db = db

    def execute(self, sql: str, params=()):
        return self._db.execute_sql(sql, params)

    def executemany(self, sql: str, seq):
        cursor = self._db.cursor()
        cursor.executemany(pg_sql(sql), list(seq))
        return cursor


def connect_database(url: str, password: str | None) -> peewee.Database:
    """A peewee database for `url` (postgresql://user[:password]@host[:port]/dbname[?options]).

    `password` (from --database-password-file) overrides one in the URL; with neither, libpq's
    own sources apply (PGPASSWORD, ~/.pgpass). Raises RuntimeError when psycopg is missing."""
    try:
        import_psycopg()
    except ImportError as exc:
        raise RuntimeError(f"PostgreSQL support needs the psycopg package (pip install 'psycopg[binary]'): {exc}")
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    # lock_timeout: a writer waits for the write lock at most as long as SQLite's busy_timeout,
    # then fails (503 limits_unavailable on the chat path), instead of hanging behind a stuck one.
    kwargs = {"field_types": FIELD_TYPES, "application_name": "infer0", "options": "-c lock_timeout=5000"}
    if password:
        kwargs["password"] = password
    return Infer0Postgres(url, **kwargs)


async def connect_listener(db: peewee.Database):
    """A psycopg AsyncConnection (autocommit, so LISTEN takes effect at once) to the same database
    and with the same credentials as `db`, named `infer0-listen` in pg_stat_activity."""
    psycopg = import_psycopg()
    params = {**db.connect_params, "application_name": "infer0-listen"}
    return await psycopg.AsyncConnection.connect(db.database, autocommit=True, **params)


_GROUP_CONCAT = re.compile(r"group_concat\(([^()]+)\)", re.IGNORECASE)
_UNIXEPOCH_DATE = re.compile(r"""date\(([^(),]+), 'unixepoch'\)""", re.IGNORECASE)


@lru_cache(maxsize=1024)
def pg_sql(sql: str) -> str:
    """A services/ statement written for SQLite, in PostgreSQL's dialect: `?` -> `%s` (literal
    `%` doubled), `group_concat(x)` -> `string_agg(x::text, ',')`, `date(x, 'unixepoch')` ->
    the UTC day as YYYY-MM-DD. The statements are fixed strings, so the cache stays small."""
    out = sql.replace("%", "%%").replace("?", "%s")
    out = _GROUP_CONCAT.sub(lambda m: f"string_agg(({m.group(1)})::text, ',')", out)
    out = _UNIXEPOCH_DATE.sub(lambda m: utc_day_sql(m.group(1)), out)
    return out


def utc_day_sql(column: str) -> str:
    return f"to_char(to_timestamp({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


_TRIGGER = re.compile(r'^CREATE TRIGGER ("[^"]+") AFTER (.+?) ON ("[^"]+"|\w+) BEGIN .* END$', re.DOTALL)
_BOOL_COLUMN = re.compile(r'"(\w+)" INTEGER( NOT NULL)?( DEFAULT ([01]))?')


def pg_ddl(statement: str) -> str:
    """A frozen migration statement (SQLite DDL) as PostgreSQL DDL, with the same meaning:

    - `"id" INTEGER NOT NULL PRIMARY KEY` (SQLite's rowid alias, auto-numbered) -> BIGSERIAL;
    - INTEGER -> BIGINT (SQLite integers are 64-bit), REAL -> DOUBLE PRECISION, BLOB -> BYTEA;
    - the BOOLEAN_COLUMNS -> BOOLEAN (DEFAULT 0/1 -> FALSE/TRUE);
    - SQLite's row triggers bumping cache_epoch -> row triggers calling infer0_bump_cache_epoch(),
      which also NOTIFYs listeners (m0006 creates the function).
    Anything else passes unchanged (both engines read it the same)."""
    trigger = _TRIGGER.match(statement)
    if trigger:
        name, event, table = trigger.groups()
        if 'UPDATE "cache_epoch"' not in statement:
            raise ValueError(f"cannot translate trigger {name}: only cache-epoch triggers are known")
        return (f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW "
                'EXECUTE FUNCTION "infer0_bump_cache_epoch"()')

    def column(m: re.Match) -> str:
        name, not_null, _default, value = m.groups()
        if name in BOOLEAN_COLUMNS:
            default = f" DEFAULT {'TRUE' if value == '1' else 'FALSE'}" if value is not None else ""
            return f'"{name}" BOOLEAN{not_null or ""}{default}'
        return m.group(0).replace("INTEGER", "BIGINT", 1)

    out = statement.replace('"id" INTEGER NOT NULL PRIMARY KEY', '"id" BIGSERIAL NOT NULL PRIMARY KEY')
    out = _BOOL_COLUMN.sub(column, out)
    out = re.sub(r"\bREAL\b", "DOUBLE PRECISION", out)
    out = re.sub(r"\bBLOB\b", "BYTEA", out)
    return out
