"""Text made safe for a response header (used by the chat answer and the profiles' headers)."""

from __future__ import annotations


def header_text(value: str) -> str:
    """`value` fit for a response header (RFC 9110 §5.5: no control characters): printable
    ASCII is kept, anything else becomes a `\\uXXXX` escape. The app names its params, and
    providers name their models; either may hold a CR, LF or DEL, which aiohttp refuses to
    send (it drops the connection without an answer)."""
    if value.isascii() and value.isprintable():
        return value
    return "".join(c if " " <= c <= "~" else f"\\u{ord(c):04x}" for c in value)
