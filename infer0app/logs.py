"""Logging setup: text or JSON lines on stderr. Callers never pass secrets to a logger.

Two paths lead to the one stream:
- ordinary log records (start-up, warnings, errors) go through `logging` as usual;
- the access log, one line per request, skips `logging` on the request path: the front
  middleware hands `ACCESS_LOG.record()` a tuple of raw values (one list append), and a
  flusher thread formats the queued lines in a batch and writes them with one call, every
  `FLUSH_INTERVAL` seconds. Through `logging` each line cost a LogRecord, a lock, a format and
  a write system call on the event loop, about 15 % of the chat path's throughput
  (bench/README.md); queued, it costs a few per cent.
Order is kept: an ordinary record first writes out the access lines queued before it, so an
error line follows the requests that preceded it. Nothing queued is lost at a clean exit:
`flush_logs()` (called by `infer0 serve` when the server has stopped, and by `logging`'s own
exit hook) writes the rest.

Control characters in any logged value are escaped (`\\n`, `\\x1b`, ...): a request path with
`%0a` in it must not forge a second line; a traceback's lines are indented and escaped likewise.
Text values holding a space or a quote are quoted.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from typing import TextIO

FLUSH_INTERVAL = 0.5  # seconds a queued access line may wait before it is written
_QUEUE_WAKE = 8192  # queued lines that wake the flusher early (bounds memory under a flood)

_json_str = json.encoder.encode_basestring_ascii  # what json.dumps uses for a str: "…" with escapes


def _escape_char(c: str) -> str:
    if c == "\\":
        return "\\\\"
    code = ord(c)
    return {10: "\\n", 13: "\\r", 9: "\\t"}.get(code) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def text_value(value: object, quote: bool = True) -> str:
    """A value as it appears in a text line: control (non-printable) characters and backslashes
    escaped, so one log line stays one line; with `quote`, quoted ("…", inner quotes escaped)
    when it holds a space or a quote, so one `key=value` field stays one field."""
    s = value if isinstance(value, str) else str(value)
    if not s.isprintable() or "\\" in s:
        s = "".join(c if c.isprintable() and c != "\\" else _escape_char(c) for c in s)
    if quote and (" " in s or '"' in s):
        s = '"' + s.replace('"', '\\"') + '"'
    return s


def _utc_seconds(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": _utc_seconds(record.created), "level": record.levelname.lower(),
                 "logger": record.name, "msg": record.getMessage()}
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)  # escapes control characters itself


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc_seconds(record.created)} {record.levelname:<7} " \
               f"{record.name}: {text_value(record.getMessage(), quote=False)}"
        fields = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{k}={text_value(v)}" for k, v in fields.items())
        if record.exc_info:
            # A traceback stays several lines, but each is indented and escaped: its exception
            # message may quote a client's input (a path with %0a), which must not start a line
            # that reads as a record of its own.
            trace = self.formatException(record.exc_info)
            line += "".join("\n  " + text_value(part, quote=False) for part in trace.split("\n"))
        return line


class AccessLog:
    """The per-request lines: `record()` queues raw values on the request path; `flush()`
    formats and writes them (from the flusher thread, before any ordinary record, at exit).

    A line is the same as `logging` would have written for logger `infer0.request`, message
    `request`, fields rid, method, path, status, ms (milliseconds, two decimals)."""

    def __init__(self) -> None:
        self.enabled = False
        self._queue: list[tuple] = []
        self._json = False
        self._stream: TextIO | None = None
        self.lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._forks_handled = False

    def configure(self, stream: TextIO, fmt: str, enabled: bool) -> None:
        """Direct the lines to `stream` in `fmt` ("text" or "json"); `enabled` False drops them."""
        self.flush()
        with self.lock:
            self._stream, self._json, self.enabled = stream, fmt == "json", enabled
        if enabled:
            self._start_flusher()

    def record(self, rid: str, method: str, path: str, status: int, seconds: float) -> None:
        """Queue one request's line (the request path's whole cost: no formatting, no I/O).
        `path` is the request path without its query; `seconds` how long the answer took."""
        queue = self._queue
        queue.append((time.time(), rid, method, path, status, seconds))
        if len(queue) >= _QUEUE_WAKE:
            self._wake.set()

    def flush(self) -> None:
        """Format and write every queued line, in order, with one write."""
        with self.lock:
            queue = self._queue
            count = len(queue)  # the event loop may append meanwhile: take only what is here now
            if not count or self._stream is None:
                return
            batch = queue[:count]
            del queue[:count]
            text = self._format_json(batch) if self._json else self._format_text(batch)
            try:
                self._stream.write(text)
                self._stream.flush()
            except (OSError, ValueError):  # stderr gone (closed pipe): nothing useful to do
                pass

    @staticmethod
    def _format_text(batch: list[tuple]) -> str:
        lines, last_second, stamp = [], -1, ""
        for created, rid, method, path, status, seconds in batch:
            second = int(created)
            if second != last_second:  # strftime once per second of lines, not once per line
                last_second, stamp = second, _utc_seconds(created)
            lines.append(f"{stamp} INFO    infer0.request: request rid={rid} method={text_value(method)} "
                         f"path={text_value(path)} status={status} ms={round(seconds * 1000, 2)}\n")
        return "".join(lines)

    @staticmethod
    def _format_json(batch: list[tuple]) -> str:
        lines, last_second, stamp = [], -1, ""
        for created, rid, method, path, status, seconds in batch:
            second = int(created)
            if second != last_second:
                last_second, stamp = second, _utc_seconds(created)
            lines.append(f'{{"ts": "{stamp}", "level": "info", "logger": "infer0.request", "msg": "request", '
                         f'"rid": {_json_str(rid)}, "method": {_json_str(method)}, "path": {_json_str(path)}, '
                         f'"status": {status}, "ms": {round(seconds * 1000, 2)!r}}}\n')
        return "".join(lines)

    def _start_flusher(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run_flusher, name="infer0-access-log", daemon=True)
            self._thread.start()
        if not self._forks_handled:  # `serve --workers N` forks: the parent's thread does not follow
            self._forks_handled = True
            os.register_at_fork(before=self.flush, after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self.lock = threading.RLock()
        self._wake = threading.Event()
        self._thread = None
        if self.enabled:
            self._start_flusher()

    def _run_flusher(self) -> None:
        while True:
            self._wake.wait(FLUSH_INTERVAL)
            self._wake.clear()
            self.flush()


ACCESS_LOG = AccessLog()


class _LineHandler(logging.StreamHandler):
    """Writes an ordinary record after the access lines queued before it; `flush()` (also run
    by `logging.shutdown` at exit) writes the queued lines too."""

    def emit(self, record: logging.LogRecord) -> None:
        with ACCESS_LOG.lock:  # the flusher thread writes to the same stream
            ACCESS_LOG.flush()
            super().emit(record)

    def flush(self) -> None:
        ACCESS_LOG.flush()
        super().flush()


def setup_logging(fmt: str = "text", level: str = "info", stream=None) -> None:
    """Send infer0's log lines to `stream` (stderr) as `fmt` ("text" or "json"), from `level`
    ("debug", "info", "warning", ...) up; the access log is on when `level` lets INFO through."""
    out = stream or sys.stderr
    handler = _LineHandler(out)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger("infer0")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    ACCESS_LOG.configure(out, fmt, root.isEnabledFor(logging.INFO))


def flush_logs() -> None:
    """Write every queued access line now (the server has stopped; a worker is about to exit)."""
    ACCESS_LOG.flush()
    for handler in logging.getLogger("infer0").handlers:
        handler.flush()
