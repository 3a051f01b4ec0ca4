"""Password re-checks of a signed-in user (change password, delete account, turn off two-factor
sign-in, make new recovery codes) count against the sign-in throttle, per (account, address),
as a sign-in would.

Without it, whoever holds a session cookie (a shared computer, a stolen cookie) could try
passwords at full speed through these forms and learn the password the session alone does not
give them. A throttled attempt is refused before the password is checked.
"""

from __future__ import annotations

from aiohttp import web

from .. import keys
from ..http_common.client_address import client_ip
from ..services.errors import ValidationError
from ..services.throttle import minutes_text

class ReauthThrottled(ValidationError):
    """Too many wrong passwords from this address for this account: wait `retry_after` seconds."""

    def __init__(self, field: str, retry_after: float):
        super().__init__(f"Too many attempts, try again in {minutes_text(retry_after)}.", field=field)
        self.retry_after = retry_after


async def password_checked(request: web.Request, field: str, check, *args, **kwargs):
    """`await store.run(check, *args, **kwargs)` for the signed-in user, whose `check` verifies
    their password (ValidationError on `field` when it is wrong). Raises ReauthThrottled (a
    ValidationError) without calling it when the throttle is engaged; counts a wrong password."""
    session, throttle = request[keys.SESSION], request.config_dict[keys.THROTTLE]
    store = request.config_dict[keys.STORE]
    account, ip = session.email, client_ip(request)
    wait = await store.run(throttle.retry_after, account, ip)  # counted in the database: every process
    if wait:
        raise ReauthThrottled(field, wait)
    try:
        result = await store.run(check, *args, **kwargs)
    except ValidationError as exc:
        if exc.field == field:  # the password was wrong; a new password that breaks a rule is not a guess
            await store.run(throttle.failed, account, ip)
        raise
    await store.run(throttle.succeeded, account, ip)
    return result
