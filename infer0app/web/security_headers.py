"""Headers every response from the main app carries (pages, errors, OAuth endpoints)."""

from __future__ import annotations

from aiohttp import web

from .. import keys

# No inline scripts or styles, no third-party origins; the pages work without JavaScript.
# form-action is deliberately absent: browsers apply it to the redirect that follows the
# consent form, which must go to the client app's redirect URI.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

STATIC_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.config_dict[keys.SETTINGS].secure_cookies:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
