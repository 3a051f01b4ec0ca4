"""A person's dashboard sessions: list them (device, address, last seen), end one, end all but
this one, end every one (issue 17 §2).

Sessions are named by their random `public_id`, never by the hash of their cookie."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from ..store.models import WebSession
from . import audit

TOUCH_EVERY = 60.0  # seconds: "last seen" is kept to the minute, so a page view writes at most once a minute

# (pattern, label): the first match names the browser, in this order (Edge and Opera say
# "Chrome" too; Chrome says "Safari").
BROWSERS = [
    (r"\bEdg(?:e|A|iOS)?/", "Edge"), (r"\bOPR/", "Opera"), (r"\bFirefox/|\bFxiOS/", "Firefox"),
    (r"(?:\b|Headless)Chrom(?:e|ium)/|\bCriOS/", "Chrome"), (r"\bVersion/[\d.]+.*Safari/", "Safari"),
    (r"^curl/", "curl"), (r"python-requests|aiohttp|httpx", "a script"),
]
SYSTEMS = [
    (r"iPhone|iPad|iPod", "iOS"), (r"Android", "Android"), (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"), (r"CrOS", "ChromeOS"), (r"Linux", "Linux"),
]


def device_label(user_agent: str) -> str:
    """'Firefox on Linux', 'Chrome on Android', 'an unknown device' from a User-Agent header."""
    ua = user_agent or ""
    browser = next((label for pattern, label in BROWSERS if re.search(pattern, ua)), "")
    system = next((label for pattern, label in SYSTEMS if re.search(pattern, ua)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"a browser on {system}" if system else "an unknown device")


@dataclass(frozen=True)
class SessionView:
    """One signed-in session. Times are epoch seconds; `current`: the session asking."""

    public_id: str
    device: str
    user_agent: str
    ip: str
    created_at: float
    last_seen_at: float | None
    current: bool


def list_sessions(store, user_id: int, current_hash: str = "") -> list[SessionView]:
    """The user's unexpired sessions, the current one first, then by last seen (newest first)."""
    now = time.time()
    with store.read():
        rows = list(WebSession.select().where((WebSession.user == user_id) & (WebSession.expires_at > now)))
    views = [SessionView(r.public_id, device_label(r.user_agent), r.user_agent, r.ip, r.created_at,
                         r.last_seen_at, r.id_hash == current_hash) for r in rows]
    return sorted(views, key=lambda v: (not v.current, -(v.last_seen_at or v.created_at)))


def touch(store, session_hash: str, ip: str) -> None:
    """Record that the session was used just now, from `ip` (its address may change)."""
    with store.write():
        WebSession.update(last_seen_at=time.time(), ip=(ip or "")[:64]).where(
            WebSession.id_hash == session_hash).execute()


def end_by_public_id(store, user_id: int, public_id: str, *, ip: str = "") -> bool:
    """Sign out one of the user's own sessions; False if no such session of theirs exists."""
    if not public_id:
        return False
    with store.write():
        n = WebSession.delete().where((WebSession.user == user_id) & (WebSession.public_id == public_id)).execute()
    if n:
        audit.record(store, audit.user_actor(user_id), "session.end", f"user:{user_id}", ip=ip)
    return bool(n)


def end_others(store, user_id: int, keep_hash: str) -> int:
    """Inside or outside a write: end every session of the user except `keep_hash`; how many ended."""
    with store.write():
        return WebSession.delete().where((WebSession.user == user_id) & (WebSession.id_hash != keep_hash)).execute()


def end_everywhere(store, user_id: int, *, actor: str, ip: str = "") -> int:
    """End every session of the user, this one included; how many ended."""
    with store.write():
        n = WebSession.delete().where(WebSession.user == user_id).execute()
    audit.record(store, actor, "session.end_all", f"user:{user_id}", ip=ip, sessions=n)
    return n
