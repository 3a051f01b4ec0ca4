"""`infer0 apps create|list|update|disable|enable|verify|unverify|rotate-secret|delete` — OAuth
clients, for operators and scripts."""

from __future__ import annotations

from ..services import accounts
from ..services import apps as svc
from ..services.audit import operator_actor
from .common import CommandError, add_data_dir, emit, iso, opened


def register(sub) -> None:
    p = sub.add_parser("apps", help="Register, list, edit, disable, delete OAuth apps and rotate their secrets.")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.required = True
    c = s.add_parser("create", help='Register an app; prints {"client_id", "client_secret"} (the secret only once; '
                                    "public apps get none).")
    c.add_argument("--owner", required=True, metavar="EMAIL", help="The developer account that owns the app.")
    c.add_argument("--name", required=True, help="The name users see on the consent page.")
    c.add_argument("--redirect-uri", required=True, action="append", dest="redirect_uris", metavar="URI",
                   help=REDIRECT_URI_HELP)
    c.add_argument("--homepage", default="", metavar="URL", help=HOMEPAGE_HELP)
    c.add_argument("--public", action="store_true",
                   help="A public client (SPA, mobile, CLI): no secret, PKCE (S256) required.")
    add_data_dir(c)
    c.set_defaults(func=create)
    ls = s.add_parser("list", help="List apps as JSON (never secrets).")
    ls.add_argument("--owner", metavar="EMAIL", help="Only this developer's apps.")
    add_data_dir(ls)
    ls.set_defaults(func=list_)
    for name, disabled in (("disable", True), ("enable", False)):
        d = s.add_parser(name, help=f"{name.capitalize()} an app" + (
            " (its tokens stop working and it cannot start new authorizations)." if disabled else "."))
        add_client_id(d)
        add_data_dir(d)
        d.set_defaults(func=lambda args, disabled=disabled: set_disabled(args, disabled))
    for name, verified in (("verify", True), ("unverify", False)):
        v = s.add_parser(name, help=("Mark an app verified: the consent page shows an operator vouched for it."
                                     if verified else "Withdraw an app's verified mark."))
        add_client_id(v)
        add_data_dir(v)
        v.set_defaults(func=lambda args, verified=verified: set_verified(args, verified))
    r = s.add_parser("rotate-secret", help='Give a confidential app a new secret; prints {"client_id", '
                                           '"client_secret", "previous_secret_expires_at"} (the secret only once).')
    add_client_id(r)
    r.add_argument("--overlap", type=int, default=0, metavar="SECONDS",
                   help=f"Seconds the old secret keeps working (0-{svc.MAX_ROTATION_OVERLAP}, i.e. up to 7 days; "
                        "default 0: it stops at once).")
    add_data_dir(r)
    r.set_defaults(func=rotate_secret)
    u = s.add_parser("update", help="Change an app's name, homepage or redirect URIs; prints the app as JSON. "
                                    "Options left out keep their value.")
    add_client_id(u)
    u.add_argument("--name", help="The new name users see on the consent page.")
    u.add_argument("--homepage", metavar="URL", help=HOMEPAGE_HELP + " An empty value removes it.")
    u.add_argument("--redirect-uri", action="append", dest="redirect_uris", metavar="URI",
                   help=REDIRECT_URI_HELP + " The list given replaces the registered one; users consent again.")
    add_data_dir(u)
    u.set_defaults(func=update)
    rm = s.add_parser("delete", help='Delete an app with its grants and tokens (they stop working within a '
                                     'second); prints {"deleted", "name", "revoked_grants"}.')
    add_client_id(rm)
    add_data_dir(rm)
    rm.set_defaults(func=delete)


REDIRECT_URI_HELP = ("A redirect URI (repeat for several): https, or http on 127.0.0.1, [::1] or localhost; "
                     "public apps also a private-use scheme with a period (com.example.app:/callback).")
HOMEPAGE_HELP = "The app's homepage (https), linked from the consent page."


def add_client_id(parser) -> None:
    parser.add_argument("--client-id", required=True, metavar="CLIENT_ID",
                        help="The app's client id (i0_ci_…, from `infer0 apps list`).")


def create(args) -> int:
    with opened(args) as (store, _vault):
        owner = accounts.get_user_by_email(store, args.owner)
        app, secret = svc.create_app(store, owner.id, name=args.name, redirect_uris=args.redirect_uris,
                                     homepage_url=args.homepage, public=args.public, actor=operator_actor("cli"))
    out = {"client_id": app.client_id}
    if secret:
        out["client_secret"] = secret
    emit(out)
    return 0


def app_dict(store, a: svc.AppView) -> dict:
    return {"client_id": a.client_id, "name": a.name, "owner": a.owner_email or None, "type": a.type_label,
            "origin": a.origin, "verified": a.verified,
            "homepage_url": a.homepage_url, "redirect_uris": list(a.redirect_uris), "disabled": a.disabled,
            "connected_users": svc.connected_users(store, a.id), "created_at": iso(a.created_at)}


def list_(args) -> int:
    with opened(args) as (store, _vault):
        owner_id = accounts.get_user_by_email(store, args.owner).id if args.owner else None
        emit([app_dict(store, a) for a in svc.list_apps(store, owner_id)])
    return 0


def update(args) -> int:
    if args.name is None and args.homepage is None and args.redirect_uris is None:
        raise CommandError("nothing to change: give --name, --homepage or --redirect-uri", 2)
    with opened(args) as (store, _vault):
        app = svc.operator_update_app(store, args.client_id, name=args.name, homepage_url=args.homepage,
                                      redirect_uris=args.redirect_uris, actor=operator_actor("cli"))
        emit(app_dict(store, app))
    return 0


def delete(args) -> int:
    with opened(args) as (store, _vault):
        app = svc.get_app(store, args.client_id)
        grants = svc.connected_grants(store, app.id)
        svc.delete_app(store, args.client_id, actor=operator_actor("cli"))
    emit({"deleted": app.client_id, "name": app.name, "revoked_grants": grants})
    return 0


def set_disabled(args, disabled: bool) -> int:
    with opened(args) as (store, _vault):
        app = svc.set_disabled(store, args.client_id, disabled, actor=operator_actor("cli"))
    emit({"client_id": app.client_id, "disabled": app.disabled})
    return 0


def set_verified(args, verified: bool) -> int:
    with opened(args) as (store, _vault):
        app = svc.set_verified(store, args.client_id, verified, actor=operator_actor("cli"))
    emit({"client_id": app.client_id, "verified": app.verified})
    return 0


def rotate_secret(args) -> int:
    with opened(args) as (store, _vault):
        secret = svc.rotate_secret(store, args.client_id, overlap=args.overlap, actor=operator_actor("cli"))
        app = svc.get_app(store, args.client_id)
    emit({"client_id": app.client_id, "client_secret": secret,
          "previous_secret_expires_at": iso(app.previous_secret_expires_at) if app.previous_secret_expires_at
          else None})
    return 0
