"""What the consent page says about an app (issue 16 §4): a view built from the AppView.

Registration metadata (RFC 7591 `logo_uri`, `client_uri`, `policy_uri`, `tos_uri`) and the
operator's `verified` mark are optional fields of the AppView: read with defaults, so the page
shows whatever this server's apps have. The logo is only ever an https URL the app registered,
loaded by the user's browser (the consent page's CSP allows https images; no Referer is sent);
infer0 never fetches it. Without one, the page shows the app's initials.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL = 500


@dataclass(frozen=True)
class AppDetails:
    name: str
    initials: str  # one or two letters, shown when there is no logo
    logo_uri: str  # "" unless an https URL
    homepage: str
    policy_uri: str
    tos_uri: str
    verified: bool  # marked verified by this server's operator
    developer_email: str  # who registered it
    created_at: float  # since when it exists (epoch seconds)


def https_url(value) -> str:
    """`value` if it is an absolute https URL with a host and no spaces or quotes, else ""."""
    if not isinstance(value, str) or len(value) > MAX_URL or any(c in value for c in ' "\'<>\\\t\r\n'):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    return value if parts.scheme.lower() == "https" and parts.hostname and not parts.username else ""


def web_url(value) -> str:
    """A link target: https, or http (homepages of local apps), else ""."""
    if isinstance(value, str) and value.lower().startswith("http://"):
        return https_url("https://" + value[7:]) and value
    return https_url(value)


def initials(name: str) -> str:
    words = [w for w in (name or "").split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or "?"


def app_details(app) -> AppDetails:
    """The consent page's view of an AppView (fields it lacks count as not given / not verified)."""
    return AppDetails(
        name=app.name, initials=initials(app.name), logo_uri=https_url(getattr(app, "logo_uri", "")),
        homepage=web_url(getattr(app, "client_uri", "") or app.homepage_url),
        policy_uri=web_url(getattr(app, "policy_uri", "")), tos_uri=web_url(getattr(app, "tos_uri", "")),
        verified=bool(getattr(app, "verified", False)), developer_email=app.owner_email,
        created_at=app.created_at)
