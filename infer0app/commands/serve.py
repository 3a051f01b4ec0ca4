"""`infer0 serve` — the server. Every setting is a flag, generated from config.Settings."""

from __future__ import annotations

import errno
import logging
import socket
import sys

from ..config import SettingsError, env_name, flag_name, load_settings, setting_fields
from ..services.pricing import PriceFileError, PriceTable
from ..store.database import StoreError
from ..store.migrations import SchemaTooNew
from ..vault.keyring import KeyringError
from .common import CommandError

# What stops a start with a one-line message instead of a traceback.
START_ERRORS = (StoreError, KeyringError, SchemaTooNew, PriceFileError)


def add_setting_flags(parser) -> None:
    for f in setting_fields():
        default = f.default
        help_text = f"{f.metadata['help']} (env {env_name(f.name)}; default: {default!s})"
        parser.add_argument(flag_name(f.name), dest=f.name, default=None, help=help_text,
                            choices=f.metadata.get("choices"), metavar=f.metadata.get("metavar"))


def register(sub) -> None:
    p = sub.add_parser("serve", help="Run the server (OAuth, dashboards, /v1 API).",
                       description="Run the infer0 server. Settings: flags > INFER0_* environment > defaults.")
    add_setting_flags(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..app import create_app
    from ..logs import setup_logging
    from ..runtime_tuning import tune_process

    tune_process()  # malloc and GC settings, before anything big is allocated; workers inherit them

    try:
        settings = load_settings({f.name: getattr(args, f.name) for f in setting_fields()})
    except SettingsError as exc:
        raise CommandError(str(exc), 2) from None
    setup_logging(settings.log_format, settings.log_level)
    data_dir = settings.data_dir.resolve()
    check_port_free(settings.host, settings.port)  # before "serving" is said, and before any fork
    if settings.workers > 1:
        from ..prefork import run_workers
        from ..services.datadir import open_configured

        try:  # migrate and create the keyring once, before any worker exists
            store, _vault = open_configured(settings)
            store.close()
            PriceTable.load(settings.data_dir)  # a bad prices.json fails here, not in each worker
        except START_ERRORS as exc:
            raise CommandError(str(exc), 1) from None
        _announce(settings, data_dir)
        return run_workers(settings.workers, lambda: _serve_one(settings, reuse_port=True))
    try:
        app = create_app(settings)
    except START_ERRORS as exc:
        raise CommandError(str(exc), 1) from None
    _announce(settings, data_dir)
    _run(app, settings, reuse_port=False)
    return 0


def redact(url: str) -> str:
    from ..store.postgres import redact as _redact
    return _redact(url)


def _announce(settings, data_dir) -> None:
    workers = f" with {settings.workers} workers" if settings.workers > 1 else ""
    database = redact(settings.database_url) if settings.database_url else "infer0.sqlite3"
    print(f"infer0 serving on http://{settings.host}:{settings.port}{workers} (public URL {settings.issuer})\n"
          f"data: {data_dir} (database {database}, keyring {settings.keyring_file or 'keyring.json'})", file=sys.stderr, flush=True)
    logging.getLogger("infer0.server").info(
        "started", extra={"fields": {"url": settings.issuer, "data_dir": str(data_dir), "workers": settings.workers}})


def _bind_problem(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use; choose another with --port"
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port} on {host}; choose a port above 1023 with --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine; choose another with --host"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def check_port_free(host: str, port: int) -> None:
    """CommandError (exit 2) with one clear line if `host`:`port` cannot be listened on.

    Binds each address `host` resolves to the way the server will (SO_REUSEADDR, as asyncio
    does; not SO_REUSEPORT, so a port that another server shares is reported as busy), then
    lets it go. The server's own bind can still lose a race: `_run` says the same line then."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CommandError(f"cannot resolve --host {host}: {exc.strerror}", 2) from None
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # as asyncio binds it
            try:
                sock.bind(address)
            except OSError as exc:
                raise CommandError(_bind_problem(exc, host, port), 2) from None


def _serve_one(settings, *, reuse_port: bool) -> int:
    from ..app import create_app

    try:
        app = create_app(settings)
    except START_ERRORS as exc:
        print(f"infer0: error: {exc}", file=sys.stderr)
        return 1
    try:
        _run(app, settings, reuse_port=reuse_port)
    except CommandError as exc:  # a worker lost the race for the port: one line, the parent exits 2
        print(f"infer0: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def _run(app, settings, *, reuse_port: bool) -> None:
    from aiohttp import web

    from ..logs import flush_logs
    from ..runtime_tuning import freeze_startup_heap

    freeze_startup_heap()  # the app is built: its start-up objects leave the collector's passes
    # run_app handles SIGINT/SIGTERM: stop accepting, let running requests finish within the timeout.
    try:
        web.run_app(app, host=settings.host, port=settings.port, access_log=None, print=None,
                    shutdown_timeout=settings.shutdown_timeout, handle_signals=True, reuse_port=reuse_port)
    except OSError as exc:  # the port was taken between check_port_free and here
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        raise CommandError(_bind_problem(exc, settings.host, settings.port), 2) from None
    finally:  # the last access lines are queued; a --workers child leaves by os._exit, past atexit
        flush_logs()
