"""Headers every response from the main app carries (pages, errors, OAuth endpoints)."""

from __future__ import annotations

from aiohttp import web

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
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def security_headers(settings) -> tuple[tuple[str, str], ...]:
    """The headers for this server's responses, worked out once (HSTS only behind https)."""
    headers = tuple(STATIC_HEADERS.items())
    return headers + (HSTS,) if settings.secure_cookies else headers


def add_security_headers(response: web.StreamResponse, headers: tuple[tuple[str, str], ...]) -> None:
    for name, value in headers:
        response.headers.setdefault(name, value)
