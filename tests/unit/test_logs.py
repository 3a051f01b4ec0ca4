"""The log lines an operator reads: one line per request, in order, control characters escaped."""

from __future__ import annotations

import io
import json
import logging

import pytest

from infer0app.logs import ACCESS_LOG, flush_logs, setup_logging, text_value


@pytest.fixture
def logged():
    """setup_logging onto a StringIO; returns (stream, fmt-setter). Restores the logger as it was
    (handlers, level, propagation), so later tests' caplog still sees infer0's records."""
    stream = io.StringIO()
    logger = logging.getLogger("infer0")
    saved = (logger.handlers[:], logger.level, logger.propagate)

    def setup(fmt="text", level="info"):
        setup_logging(fmt, level, stream=stream)
        return stream

    yield setup
    flush_logs()
    setup_logging("text", "warning", stream=io.StringIO())
    logger.handlers[:], logger.level, logger.propagate = saved


FORGED_PATH = "/x\nINFO    infer0.request: request rid=forged status=200\r\x1b[2J"


def test_a_path_with_a_newline_stays_one_text_line(logged):
    stream = logged("text")
    ACCESS_LOG.record("0123456789abcdef", "GET", FORGED_PATH, 404, 0.00123)
    flush_logs()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "infer0.request: request rid=0123456789abcdef method=GET path=" in lines[0]
    assert "\\n" in lines[0] and "\\r" in lines[0] and "\\x1b" in lines[0] and "\x1b" not in lines[0]
    assert lines[0].endswith("status=404 ms=1.23")


def test_a_path_with_a_newline_stays_one_json_line_and_decodes_back(logged):
    stream = logged("json")
    ACCESS_LOG.record("0123456789abcdef", "GET", FORGED_PATH, 404, 0.00123)
    flush_logs()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["path"] == FORGED_PATH
    assert {k: entry[k] for k in ("level", "logger", "msg", "rid", "method", "status", "ms")} == {
        "level": "info", "logger": "infer0.request", "msg": "request", "rid": "0123456789abcdef",
        "method": "GET", "status": 404, "ms": 1.23}


def test_ordinary_records_escape_their_fields_too(logged):
    stream = logged("text")
    logging.getLogger("infer0.test").warning("bad\nline here", extra={"fields": {"email": "a@b\nERROR x=1"}})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith('infer0.test: bad\\nline here email="a@b\\nERROR x=1"')


@pytest.mark.parametrize("raw, shown", [
    ("/v1/chat/completions", "/v1/chat/completions"),
    ("/café", "/café"),                       # printable non-ASCII stays readable
    ("/a b", '"/a b"'),                       # a space cannot start a forged field
    ('/a"b', '"/a\\"b"'),
    ("/back\\slash", "/back\\\\slash"),        # a literal backslash is not mistaken for an escape
    ("/nul\x00/del\x7f/nel\x85/ls\u2028", "/nul\\x00/del\\x7f/nel\\x85/ls\\u2028"),
])
def test_text_values(raw, shown):
    assert text_value(raw) == shown


def test_an_error_line_follows_the_requests_before_it(logged):
    stream = logged("text")
    for i in range(3):
        ACCESS_LOG.record(f"{i:016x}", "GET", f"/p{i}", 200, 0.001)
    logging.getLogger("infer0.error").error("boom")
    ACCESS_LOG.record("f" * 16, "GET", "/after", 200, 0.001)
    flush_logs()
    lines = stream.getvalue().splitlines()
    assert [line.split("path=")[1].split()[0] if "path=" in line else "ERROR" for line in lines] == \
        ["/p0", "/p1", "/p2", "ERROR", "/after"]


def test_queued_lines_look_like_the_logging_module_would_write_them(logged):
    """The batch formatter and the ordinary one agree on the shape of a request line."""
    for fmt in ("text", "json"):
        stream = logged(fmt)
        ACCESS_LOG.record("0123456789abcdef", "POST", "/v1/chat/completions", 200, 0.0105)
        flush_logs()
        logging.getLogger("infer0.request").info("request", extra={"fields": {
            "rid": "0123456789abcdef", "method": "POST", "path": "/v1/chat/completions", "status": 200,
            "ms": 10.5}})
        queued, ordinary = stream.getvalue().splitlines()[-2:]
        if fmt == "json":
            queued, ordinary = json.loads(queued), json.loads(ordinary)
            queued.pop("ts"), ordinary.pop("ts")
        else:
            queued, ordinary = queued.split(" ", 1)[1], ordinary.split(" ", 1)[1]
        assert queued == ordinary


def test_warning_level_turns_the_access_log_off(logged):
    stream = logged("text", "warning")
    assert not ACCESS_LOG.enabled
    stream = logged("text", "info")
    assert ACCESS_LOG.enabled
    ACCESS_LOG.record("0" * 16, "GET", "/", 200, 0.001)
    flush_logs()
    assert "path=/ status=200" in stream.getvalue()


def test_a_traceback_quoting_client_input_cannot_forge_a_record(logged):
    """An exception message may hold a client's path: its lines are indented and escaped."""
    stream = logged("text")
    forged = "2026-01-01T00:00:00 INFO    infer0.request: request rid=forged path=/admin status=200"
    try:
        raise ValueError(f"bad path /x\n{forged}\r\x1b[2J")
    except ValueError:
        logging.getLogger("infer0.test").exception("unhandled error")
    lines = stream.getvalue().split("\n")[:-1]
    assert "infer0.test: unhandled error" in lines[0]
    assert len(lines) > 2 and all(line.startswith("  ") for line in lines[1:])
    assert any(line.lstrip().startswith(forged) for line in lines)  # kept readable, but indented
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()
