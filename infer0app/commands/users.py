"""`infer0 users create|list|disable|enable`."""

from __future__ import annotations

from ..services import accounts
from ..services.audit import operator_actor
from .common import CommandError, add_data_dir, emit, iso, opened, read_secret_stdin


def register(sub) -> None:
    p = sub.add_parser("users", help="Create, list and disable user accounts.")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.required = True
    c = s.add_parser("create", help="Create a user; prints {\"id\", \"email\"}.")
    c.add_argument("--email", required=True, help="The new account's email address (its sign-in name).")
    c.add_argument("--password-stdin", action="store_true",
                   help="Read a password from standard input (else the user cannot sign in to the dashboard).")
    add_data_dir(c)
    c.set_defaults(func=create)
    ls = s.add_parser("list", help="List users as JSON.")
    ls.add_argument("--search", default="", metavar="TEXT", help="Only users whose email contains TEXT.")
    add_data_dir(ls)
    ls.set_defaults(func=list_)
    for name, disabled in (("disable", True), ("enable", False)):
        d = s.add_parser(name, help=f"{name.capitalize()} a user (disabling kills their sessions and tokens).")
        d.add_argument("--email", required=True, help="The user's email address.")
        add_data_dir(d)
        d.set_defaults(func=lambda args, disabled=disabled: set_disabled(args, disabled))


def create(args) -> int:
    password = read_secret_stdin("password") if args.password_stdin else None
    with opened(args, create=True) as (store, _vault):
        user = accounts.create_user(store, args.email, password, actor=operator_actor("cli"))
    emit({"id": user.id, "email": user.email})
    return 0


def list_(args) -> int:
    with opened(args) as (store, _vault):
        users = accounts.list_users(store, args.search)
        emit([{"id": u.id, "email": u.email, "disabled": bool(u.disabled), "created_at": iso(u.created_at),
               "last_login_at": iso(u.last_login_at)} for u in users])
    return 0


def set_disabled(args, disabled: bool) -> int:
    with opened(args) as (store, _vault):
        user = accounts.set_disabled(store, args.email, disabled, actor=operator_actor("cli"))
    emit({"id": user.id, "email": user.email, "disabled": disabled})
    return 0


__all__ = ["register", "CommandError"]
