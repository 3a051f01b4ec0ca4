"""SSE parser and encoder edge cases."""

from __future__ import annotations

import pytest

from infer0app.gateway.sse import DONE_FRAME, SSEEvent, SSEParser, encode_data, encode_event, encode_json


def parse_all(raw: bytes, size: int) -> list[SSEEvent]:
    parser = SSEParser()
    events = []
    for i in range(0, len(raw), size):
        events += parser.feed(raw[i : i + size])
    return events + parser.flush()


STREAM = (
    b"\xef\xbb\xbf: keep-alive comment\r\n"
    b"event: message_start\r\n"
    b'data: {"a": "\xc3\xa9t\xc3\xa9"}\r\n'
    b"\r\n"
    b"data: line one\r"
    b"data:line two\r"
    b"\r"
    b"id: 7\n"
    b"data\n"
    b"\n"
    b"event: ping\n"
    b"\n"
    b"data: [DONE]\n"
    b"\n"
)
EXPECTED = [
    SSEEvent(data='{"a": "été"}', event="message_start"),
    SSEEvent(data="line one\nline two"),
    SSEEvent(data="", id="7"),
    SSEEvent(data="[DONE]", id="7"),
]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
def test_any_chunking_gives_the_same_events(size: int) -> None:
    # BOM, comments, CRLF / CR / LF endings, a CR at a chunk edge, a UTF-8 character
    # split between chunks, a field without colon, an event with no data (not sent)
    assert parse_all(STREAM, size) == EXPECTED


def test_cr_at_chunk_end_followed_by_lf_is_one_line_break() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n\r\n") == [SSEEvent(data="a")]


def test_event_without_trailing_blank_line_is_flushed_at_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: [DONE]") == []
    assert parser.flush() == [SSEEvent(data="[DONE]")]
    assert parser.flush() == []


def test_event_name_resets_between_events_and_only_one_space_is_stripped() -> None:
    events = parse_all(b"event: a\ndata:  two spaces\n\ndata: x\n\n", 4)
    assert events == [SSEEvent(data=" two spaces", event="a"), SSEEvent(data="x")]


def test_comment_only_stream_yields_nothing() -> None:
    assert parse_all(b": ping\n\n: ping\n\n", 3) == []


def test_encoders() -> None:
    assert encode_data('{"a":1}') == b'data: {"a":1}\n\n'
    assert encode_data("a\nb") == b"data: a\ndata: b\n\n"
    assert encode_json({"x": "é"}) == 'data: {"x":"é"}\n\n'.encode()
    assert encode_event("ping", {"type": "ping"}) == b'event: ping\ndata: {"type":"ping"}\n\n'
    assert DONE_FRAME == b"data: [DONE]\n\n"
    # what the encoder writes, the parser reads back
    assert parse_all(encode_data("a\nb") + DONE_FRAME, 1) == [SSEEvent(data="a\nb"), SSEEvent(data="[DONE]")]
