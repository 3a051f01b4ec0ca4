"""`infer0 kek status|rotate` — the keyring's key-encryption keys, for scripts.

`rotate` is crash-safe and resumable (services/kek_rotation.py): if it is interrupted,
running it again completes the same rotation. It works while the server runs.
"""

from __future__ import annotations

import sys

from ..services import kek_rotation
from ..services.audit import operator_actor
from .common import CommandError, add_data_dir, emit, int_between, iso, number_between, opened


def register(sub) -> None:
    p = sub.add_parser("kek", help="Key-encryption keys: status and crash-safe rotation.")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.required = True
    st = s.add_parser("status", help="The keyring as JSON: KEK ids, created, status, secrets each wraps.")
    add_data_dir(st)
    st.set_defaults(func=status)
    r = s.add_parser("rotate", help="Add a new KEK, re-wrap every secret under it, verify, retire the old one.")
    r.add_argument("--server-wait", type=number_between(0, kek_rotation.MAX_SERVER_WAIT),
                   default=kek_rotation.SERVER_WAIT, metavar="SECONDS",
                   help=f"How long to wait for running servers to pick up the new key "
                        f"(0-{kek_rotation.MAX_SERVER_WAIT:g}; default %(default)s).")
    r.add_argument("--batch-size", type=int_between(1, kek_rotation.MAX_BATCH_SIZE), default=kek_rotation.BATCH_SIZE,
                   metavar="N", help=f"Secrets re-wrapped per transaction (1-{kek_rotation.MAX_BATCH_SIZE}; default "
                                     "%(default)s); smaller holds the write lock for less time.")
    r.add_argument("--quiet", action="store_true", help="No progress lines on standard error.")
    add_data_dir(r)
    r.set_defaults(func=rotate)


def status_dict(st: kek_rotation.KeyringStatus) -> dict:
    return {
        "keyring": st.path,
        "primary": st.primary,
        "rotation_in_progress": st.rotation_in_progress,
        "secrets_total": st.secrets_total,
        "secrets_without_kek": st.secrets_without_kek,
        "keys": [{"id": k.id, "created_at": iso(k.created), "status": k.status, "primary": k.primary,
                  "secrets": k.secrets} for k in st.keys],
        "servers": [{"pid": s.pid, "host": s.host, "version": s.version, "started_at": iso(s.started_at),
                     "heartbeat_at": iso(s.heartbeat_at), "kek_ids": list(s.kek_ids), "primary": s.primary_kek}
                    for s in st.servers],
    }


def status(args) -> int:
    with opened(args) as (store, vault):
        emit(status_dict(kek_rotation.keyring_status(store, vault.path)))
    return 0


def rotate(args) -> int:
    last = {"phase": None}

    def progress(p: kek_rotation.Progress) -> None:
        if args.quiet:
            return
        # one line per phase, and re-wrap/verify progress at most every tenth of the way
        step = max(1, p.total // 10)
        if p.phase != last["phase"] or p.done in (p.total,) or p.done % step == 0:
            print(f"[{p.phase}] {p.message}", file=sys.stderr, flush=True)
        last["phase"] = p.phase

    with opened(args) as (store, vault):
        try:
            result = kek_rotation.rotate(store, vault.path, actor=operator_actor("cli"),
                                         progress=progress, server_wait=args.server_wait,
                                         batch_size=args.batch_size)
        except kek_rotation.RotationError as exc:
            raise CommandError(exc.message, 1) from None
    emit(result.as_dict())
    return 0
