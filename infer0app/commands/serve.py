"""`infer0 serve` — the server. Every setting is a flag, generated from config.Settings."""

from __future__ import annotations

import logging
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
    if settings.workers > 1:
        from ..prefork import run_workers
        from ..services.datadir import open_data_dir

        try:  # migrate and create the keyring once, before any worker exists
            store, _vault = open_data_dir(settings.data_dir)
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


def _announce(settings, data_dir) -> None:
    workers = f" with {settings.workers} workers" if settings.workers > 1 else ""
    print(f"infer0 serving on http://{settings.host}:{settings.port}{workers} (public URL {settings.issuer})\n"
          f"data: {data_dir} (database infer0.sqlite3, keyring keyring.json)", file=sys.stderr, flush=True)
    logging.getLogger("infer0.server").info(
        "started", extra={"fields": {"url": settings.issuer, "data_dir": str(data_dir), "workers": settings.workers}})


def _serve_one(settings, *, reuse_port: bool) -> int:
    from ..app import create_app

    try:
        app = create_app(settings)
    except START_ERRORS as exc:
        print(f"infer0: error: {exc}", file=sys.stderr)
        return 1
    _run(app, settings, reuse_port=reuse_port)
    return 0


def _run(app, settings, *, reuse_port: bool) -> None:
    from aiohttp import web

    from ..logs import flush_logs

    # run_app handles SIGINT/SIGTERM: stop accepting, let running requests finish within the timeout.
    try:
        web.run_app(app, host=settings.host, port=settings.port, access_log=None, print=None,
                    shutdown_timeout=settings.shutdown_timeout, handle_signals=True, reuse_port=reuse_port)
    finally:  # the last access lines are queued; a --workers child leaves by os._exit, past atexit
        flush_logs()
