"""The SSE parser's limits and the stream translators' refusal of unreadable events (issue 18 §3).

The end-to-end behaviour (what the app receives) is in tests/integration/api/test_upstream_faults.py;
these pin the units it rests on.
"""

from __future__ import annotations

import pytest

from infer0app.gateway.profiles.replies import StreamNormaliser
from infer0app.gateway.providers.anthropic_stream import AnthropicTranslator
from infer0app.gateway.providers.base import Route
from infer0app.gateway.sse import MAX_EVENT_BYTES, SSEEvent, SSEParser


def test_an_endless_line_is_refused_once_it_passes_the_limit() -> None:
    parser = SSEParser()
    piece = b"x" * (1024 * 1024)
    parser.feed(b"data: ")
    with pytest.raises(ValueError, match="longer than"):
        for _ in range(MAX_EVENT_BYTES // len(piece) + 2):
            parser.feed(piece)


def test_an_event_of_many_data_lines_is_refused_past_the_limit() -> None:
    parser = SSEParser()
    line = b"data: " + b"y" * (1024 * 1024) + b"\n"
    with pytest.raises(ValueError, match="event longer"):
        for _ in range(MAX_EVENT_BYTES // (1024 * 1024) + 2):
            parser.feed(line)


def test_a_long_line_under_the_limit_still_parses() -> None:
    parser = SSEParser()
    events = parser.feed(b"data: " + b"z" * (5 * 1024 * 1024) + b"\n\n")
    assert len(events) == 1 and len(events[0].data) == 5 * 1024 * 1024


@pytest.mark.parametrize("data", ['{"id": "c", "choices": [', "\ufffd\ufffd( not utf-8", "42", '["a"]'])
def test_openai_wire_chunk_that_is_not_a_json_object_is_refused(data: str) -> None:
    """It used to be forwarded to the app as it came, where the SDK failed to parse it."""
    with pytest.raises(ValueError):
        StreamNormaliser(include_usage=False).feed(data)


@pytest.mark.parametrize("data", ['{"type": "content_block_delta", "index": 0, "delta": {"type": "text_', "[1]"])
def test_anthropic_event_that_is_not_a_json_object_is_refused(data: str) -> None:
    """It used to be skipped, dropping content silently while the stream went on."""
    route = Route(kind="anthropic", wire="anthropic", base_url="https://api.anthropic.com", model="claude-x")
    translator = AnthropicTranslator(route, include_usage=False, created=1, json_tool="")
    with pytest.raises(ValueError):
        translator.feed(SSEEvent(data=data, event="content_block_delta"))
