"""One JSON document decoded by the standard library's C scanner, without json.loads' layers.

`json.loads(raw)` detects the encoding, decodes, skips leading and trailing whitespace with a
regex and only then runs the C scanner: on the bench's 280-byte chat answer that is ~4.3 µs,
of which the scanner is ~2.1 µs. Every call on the chat path decodes twice (the app's request,
request_shape.decode_json, and the provider's answer, providers/base.read_json), so
`document_decoder` runs the scanner directly on the common shape (no whitespace before the
document) and hands every other case to the decoder itself: results and errors are the
decoder's own, only the common case is shorter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

#: RFC 8259 §2: the only whitespace allowed around a JSON text.
JSON_WHITESPACE = " \t\n\r"


def document_decoder(decoder: json.JSONDecoder) -> Callable[[str], Any]:
    """`decode(text)` -> the one JSON value in `text`, exactly as `decoder.decode(text)` (same
    hooks, same JSONDecodeError / hook errors / RecursionError), faster when `text` starts with
    the value itself."""
    scan = decoder.scan_once
    full = decoder.decode

    def decode(text: str) -> Any:
        try:
            value, end = scan(text, 0)
        except (StopIteration, ValueError):  # whitespace first, empty or invalid: the decoder says which
            return full(text)
        if end != len(text) and text[end:].strip(JSON_WHITESPACE):
            return full(text)  # something after the value: the decoder's "Extra data"
        return value

    return decode
