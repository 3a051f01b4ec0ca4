"""`infer0 tokens list|revoke` — apps' access to users, for scripts (JSON on stdout).

A revocation is written to the database; a running server stops accepting the tokens
within a second (its bearer cache lives at most that long).
"""

from __future__ import annotations

from ..services import accounts, admin_queries, apps, grants
from ..services.errors import NotFound
from ..services.audit import operator_actor
from .common import add_data_dir, emit, iso, opened, row_id


def register(sub) -> None:
    p = sub.add_parser("tokens", help="List active grants and revoke them (with their tokens).")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.required = True
    ls = s.add_parser("list", help="Active grants as JSON, with last use and live token count.")
    ls.add_argument("--user", metavar="EMAIL", help="Only this user's grants.")
    ls.add_argument("--app", metavar="CLIENT_ID", help="Only this app's grants.")
    add_data_dir(ls)
    ls.set_defaults(func=list_)
    rv = s.add_parser("revoke", help="Revoke one grant, all of a user's, or all of an app's; prints JSON.")
    which = rv.add_mutually_exclusive_group(required=True)
    which.add_argument("--user", metavar="EMAIL", help="Revoke every grant of this user.")
    which.add_argument("--app", metavar="CLIENT_ID", help="Revoke every grant (and token) of this app.")
    which.add_argument("--grant", type=row_id, metavar="ID", help="Revoke this one grant (ids: `infer0 tokens list`).")
    add_data_dir(rv)
    rv.set_defaults(func=revoke)


def _app_id(store, client_id: str) -> int:
    return apps.get_app(store, client_id).id


def grant_dict(g: admin_queries.GrantRow) -> dict:
    return {"grant_id": g.id, "user": g.user_email, "app": g.client_id, "app_name": g.app_name,
            "provider": g.provider or None, "model": g.model, "scope": g.scope, "created_at": iso(g.created_at),
            "last_used_at": iso(g.last_used_at), "active_tokens": g.active_tokens}


def list_(args) -> int:
    with opened(args) as (store, _vault):
        user_id = accounts.get_user_by_email(store, args.user).id if args.user else None
        app_id = _app_id(store, args.app) if args.app else None
        rows = admin_queries.list_active_grants(store, user_id=user_id, app_id=app_id, limit=100_000)
        emit([grant_dict(g) for g in rows])
    return 0


def revoke(args) -> int:
    actor = operator_actor("cli")
    with opened(args) as (store, _vault):
        if args.grant is not None:
            if not grants.revoke_grant(store, args.grant, actor):
                raise NotFound(f"No active grant with id {args.grant}.")
            emit({"revoked_grants": 1, "grant": args.grant})
        elif args.user:
            user = accounts.get_user_by_email(store, args.user)
            emit({"revoked_grants": grants.revoke_user_grants(store, user.id, actor), "user": user.email})
        else:
            emit({"revoked_grants": grants.revoke_app_grants(store, _app_id(store, args.app), actor),
                  "app": args.app})
    return 0
