"""`infer0 users delete | reset-password | reset-2fa EMAIL` (issue 17): the operator's side of
accounts a person can trust, on the same services as the Account page and the admin TUI.

Exit codes, as for every command: 0 done, 1 not found or refused (e.g. `delete` without
`--yes`), 2 bad input. Results are JSON on stdout."""

from __future__ import annotations

import sys

from ..services import account_deletion, passwords, two_factor
from ..services.accounts import get_user_by_email
from ..services.audit import operator_actor
from .common import CommandError, add_data_dir, emit, iso, opened, settings_from


def _email_arguments(parser) -> None:
    parser.add_argument("email", nargs="?", metavar="EMAIL", help="The user's email address.")
    parser.add_argument("--email", dest="email_flag", metavar="EMAIL",
                        help="The same, as a flag (like `users disable --email`).")
    add_data_dir(parser)


def _email(args) -> str:
    given = {e for e in (args.email, args.email_flag) if e}
    if len(given) != 1:
        raise CommandError("name the user once: infer0 users ACTION EMAIL", 2)
    return given.pop()


def register_actions(actions) -> None:
    """Adds the actions to `infer0 users` (its subparsers, from commands/users.py)."""
    d = actions.add_parser(
        "delete", help="Delete a user for good: their grants and tokens end, their provider keys are erased, "
                       "the apps they registered are deleted (their users' grants end); the audit keeps the "
                       "events without their email.")
    _email_arguments(d)
    d.add_argument("--yes", action="store_true",
                   help="Really delete. Without it, prints what would be deleted and exits 1.")
    d.set_defaults(func=delete)
    r = actions.add_parser(
        "reset-password", help="Issue a one-time link with which the user sets a new password (no email is "
                               "sent: hand it over yourself). Prints {\"email\", \"reset_url\", \"expires_at\"}.")
    _email_arguments(r)
    r.add_argument("--expires-in", type=int, default=passwords.DEFAULT_RESET_TTL, metavar="SECONDS",
                         help=f"Seconds the link works ({passwords.MIN_RESET_TTL}-{passwords.MAX_RESET_TTL}; "
                              f"default {passwords.DEFAULT_RESET_TTL}, a day).")
    r.add_argument("--public-url", metavar="URL", default=None,
                         help="The server's public URL the link starts with (default: INFER0_PUBLIC_URL, "
                              "else http://INFER0_HOST:INFER0_PORT).")
    r.set_defaults(func=reset_password)
    t = actions.add_parser("reset-2fa", help="Remove a user's two-factor sign-in (lost phone and recovery codes); "
                                             "they sign in with their password and may enrol again.")
    _email_arguments(t)
    t.set_defaults(func=reset_2fa)


def delete(args) -> int:
    email = _email(args)
    with opened(args) as (store, _vault):
        user = get_user_by_email(store, email)
        if not args.yes:
            preview = account_deletion.deletion_preview(store, user.id)
            emit({"email": preview.email, "would_delete": {
                "apps": [{"client_id": a.client_id, "name": a.name, "other_users": a.other_users}
                         for a in preview.apps],
                "connections": preview.connections, "live_grants": preview.live_grants}})
            raise CommandError(f"not deleted: pass --yes to delete {user.email} and the above", 1)
        result = account_deletion.delete_account(store, user.id, actor=operator_actor("cli"))
    emit({"deleted": user.email, "id": result.user_id, "apps_deleted": result.apps_deleted,
          "grants_ended": result.grants_ended, "connections_erased": result.connections_erased,
          "wal_truncated": result.wal_truncated})
    return 0


def reset_password(args) -> int:
    email = _email(args)
    base = args.public_url or settings_from(args).issuer
    if not base.startswith(("http://", "https://")):
        raise CommandError(f"--public-url: {base!r} is not an http(s) URL", 2)
    with opened(args) as (store, _vault):
        link = passwords.issue_reset_link(store, email, base, actor=operator_actor("cli"), ttl=args.expires_in)
    emit({"email": link.email, "reset_url": link.url, "expires_at": iso(link.expires_at)})
    print("Hand this link to the person yourself; it works once.", file=sys.stderr)
    return 0


def reset_2fa(args) -> int:
    email = _email(args)
    with opened(args) as (store, _vault):
        removed = two_factor.operator_reset(store, email, actor=operator_actor("cli"))
    emit({"email": email.strip().lower(), "two_factor_removed": removed})
    return 0
