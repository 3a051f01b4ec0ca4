"""`infer0 providers add|list|remove` — never prints a key."""

from __future__ import annotations

from ..gateway.providers.kinds import KINDS
from ..services import accounts
from ..services import providers as svc
from ..services.audit import operator_actor
from .common import add_data_dir, emit, iso, opened, read_secret_stdin, row_id


def register(sub) -> None:
    p = sub.add_parser("providers", help="Manage users' provider connections.")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.required = True
    a = s.add_parser("add", help="Add a provider connection for a user; prints {\"id\"}.")
    a.add_argument("--user", required=True, metavar="EMAIL", help="The user the connection belongs to.")
    a.add_argument("--kind", required=True, help="One of: " + ", ".join(KINDS))
    a.add_argument("--name", default="", help="A label the user sees (default: the kind's name).")
    a.add_argument("--base-url", default="", metavar="URL",
                   help="The provider's API base URL (needed for openai-compatible and azure; else the kind's own).")
    a.add_argument("--model", default="", help="The default model apps get through this connection.")
    a.add_argument("--api-version", default="", help="Azure OpenAI API version.")
    a.add_argument("--api-key-stdin", action="store_true", help="Read the provider API key from standard input.")
    add_data_dir(a)
    a.set_defaults(func=add)
    ls = s.add_parser("list", help="List a user's connections as JSON (keys are shown masked).")
    ls.add_argument("--user", required=True, metavar="EMAIL", help="Whose connections to list.")
    add_data_dir(ls)
    ls.set_defaults(func=list_)
    rm = s.add_parser("remove", help='Delete a user\'s provider connection and its sealed key; prints {"removed", '
                                     '"user"}. Grants on it move to their first fallback connection, or wait '
                                     "for the user to pick one.")
    rm.add_argument("--user", required=True, metavar="EMAIL", help="The user the connection belongs to.")
    rm.add_argument("--id", required=True, type=row_id, dest="connection_id", metavar="ID",
                    help="The connection's id (from `infer0 providers list`).")
    add_data_dir(rm)
    rm.set_defaults(func=remove)


def add(args) -> int:
    key = read_secret_stdin("API key") if args.api_key_stdin else None
    with opened(args) as (store, vault):
        user = accounts.get_user_by_email(store, args.user)
        conn = svc.add_connection(store, vault, user.id, kind=args.kind, name=args.name, api_key=key,
                                  base_url=args.base_url, model=args.model,
                                  options={"api_version": args.api_version}, actor=operator_actor("cli"))
    emit({"id": conn.id, "kind": conn.kind, "name": conn.name, "model": conn.default_model})
    return 0


def list_(args) -> int:
    with opened(args) as (store, _vault):
        user = accounts.get_user_by_email(store, args.user)
        emit([{"id": c.id, "kind": c.kind, "name": c.name, "base_url": c.base_url or KINDS[c.kind].base_url,
               "model": c.default_model, "default": bool(c.is_default), "key": c.key_tail or None,
               "created_at": iso(c.created_at)} for c in svc.list_connections(store, user.id)])
    return 0


def remove(args) -> int:
    with opened(args) as (store, _vault):
        user = accounts.get_user_by_email(store, args.user)
        svc.delete_connection(store, user.id, args.connection_id, actor=operator_actor("cli"))
    emit({"removed": args.connection_id, "user": user.email})
    return 0
