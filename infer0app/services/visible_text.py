"""Text people read in lists and on the consent page (app names, connection names, emails) holds
only characters that show.

Refused: control characters (C0, DEL, C1), format characters (the bidi overrides and isolates
U+202A-202E/U+2066-2069 that display "Good\\u202eliaM" as "GoodMail", zero-width spaces and
joiners, the BOM), line and paragraph separators, surrogates and private-use characters. With
them, an app registered by anyone (RFC 7591) or a new account could look exactly like another.
Unicode categories (UAX #44): Cc, Cf, Zl, Zp, Cs, Co. Emoji joined with U+200D are refused too;
their parts are not.
"""

from __future__ import annotations

import unicodedata

UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})


def has_unseen(text: str) -> bool:
    """True when `text` holds a character that does not show (see the module docstring)."""
    if text.isascii():
        return not text.isprintable()  # ASCII: exactly the controls (space is printable)
    return any(unicodedata.category(c) in UNSEEN_CATEGORIES for c in text)
