"""`infer0 apps create|list|disable|enable|verify|unverify|rotate-secret` — OAuth clients, for
operators and scripts."""

from __future__ import annotations

from ..services import accounts
from ..services import apps as svc
from ..services.audit import operator_actor
from .common import add_data_dir, emit, iso, opened


def register(sub) -> None:
    p = sub.add_parser("apps", help="Register, list and disable OAuth apps.")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.required = True
    c = s.add_parser("create", help='Register an app; prints {"client_id", "client_secret"} (the secret only once; '
                                    "public apps get none).")
    c.add_argument("--owner", required=True, metavar="EMAIL", help="The developer account that owns the app.")
    c.add_argument("--name", required=True)
    c.add_argument("--redirect-uri", required=True, action="append", dest="redirect_uris", metavar="URI",
                   help="A redirect URI (repeat for several): https, or http on 127.0.0.1, [::1] or localhost; "
                        "public apps also a private-use scheme with a period (com.example.app:/callback).")
    c.add_argument("--homepage", default="", metavar="URL")
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
        d.add_argument("--client-id", required=True)
        add_data_dir(d)
        d.set_defaults(func=lambda args, disabled=disabled: set_disabled(args, disabled))
    for name, verified in (("verify", True), ("unverify", False)):
        v = s.add_parser(name, help=("Mark an app verified: the consent page shows an operator vouched for it."
                                     if verified else "Withdraw an app's verified mark."))
        v.add_argument("--client-id", required=True)
        add_data_dir(v)
        v.set_defaults(func=lambda args, verified=verified: set_verified(args, verified))
    r = s.add_parser("rotate-secret", help='Give a confidential app a new secret; prints {"client_id", '
                                           '"client_secret", "previous_secret_expires_at"} (the secret only once).')
    r.add_argument("--client-id", required=True)
    r.add_argument("--overlap", type=int, default=0, metavar="SECONDS",
                   help=f"Seconds the old secret keeps working (0-{svc.MAX_ROTATION_OVERLAP}, i.e. up to 7 days; "
                        "default 0: it stops at once).")
    add_data_dir(r)
    r.set_defaults(func=rotate_secret)


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


def list_(args) -> int:
    with opened(args) as (store, _vault):
        owner_id = accounts.get_user_by_email(store, args.owner).id if args.owner else None
        emit([{"client_id": a.client_id, "name": a.name, "owner": a.owner_email or None, "type": a.type_label,
               "origin": a.origin, "verified": a.verified,
               "homepage_url": a.homepage_url, "redirect_uris": list(a.redirect_uris), "disabled": a.disabled,
               "connected_users": svc.connected_users(store, a.id), "created_at": iso(a.created_at)}
              for a in svc.list_apps(store, owner_id)])
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
