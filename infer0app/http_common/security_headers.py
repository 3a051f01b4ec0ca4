"""Headers every response from the main app carries (pages, errors, OAuth endpoints, /v1);
front_middleware.py adds them."""

from __future__ import annotations

from multidict import CIMultiDict

# No inline scripts or styles, no third-party origins; the pages work without JavaScript.
# form-action is deliberately absent: browsers apply it to the redirect that follows the
# consent form, which must go to the client app's redirect URI.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

# The consent page alone may show an app's logo from the https URL the app registered: the
# user's browser loads it (with no Referer), infer0 itself never fetches it.
CSP_WITH_APP_LOGOS = CSP.replace("img-src 'self' data:", "img-src 'self' data: https:")

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


def add_headers(headers: CIMultiDict, pairs: tuple[tuple[str, str], ...]) -> None:
    """Adds each header the handler did not set itself (before the response is prepared)."""
    for name, value in pairs:
        headers.setdefault(name, value)
