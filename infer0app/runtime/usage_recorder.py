"""Records usage off the request path: handlers append, a background task writes batches."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from .. import keys
from ..services.usage_log import UsageRecord, insert_batch
from ..store.faults import StorageUnavailable, refused_value
from .periodic import every

log = logging.getLogger("infer0.usage")

FLUSH_INTERVAL = 0.5
# A busy server writes a batch this big before the interval is up: larger batches cost less a
# row (one transaction, fewer trips to the writer thread): 1.8 vs 2.2 µs a row at 1024 vs 256
# (on a real SQLite file, after m0007 dropped an index).
FLUSH_AT = 1024
MAX_BUFFER = 100_000  # beyond this (database stuck), oldest events are dropped, loudly


class UsageRecorder:
    def __init__(self, store):
        self._store = store
        self._buffer: list[UsageRecord] = []
        self._stalled = False  # the last flush met a storage fault (logged once, not every interval)
        self.wake = asyncio.Event()  # set when a batch of FLUSH_AT is waiting: flush before the interval
        self.observe = None  # metrics/ (--metrics-token): called with each written batch, off the request path

    @property
    def pending(self) -> int:
        """Records waiting for the next flush (the metrics' queue depth)."""
        return len(self._buffer)

    def record(self, rec: UsageRecord) -> None:
        """Never blocks, never raises: the request has already been answered."""
        self._buffer.append(rec)
        if len(self._buffer) > MAX_BUFFER:
            del self._buffer[: len(self._buffer) - MAX_BUFFER]
            log.warning("usage buffer full; dropped oldest events")
        if len(self._buffer) >= FLUSH_AT:
            self.wake.set()

    async def flush(self) -> None:
        """Writes what is buffered in one batch; on failure logs and keeps it for the next flush."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        try:
            await self._store.run(insert_batch, batch)
        except StorageUnavailable as exc:  # disk full, read-only: /healthz says so; keep the events
            if not self._stalled:
                log.error("could not write usage events (%s); keeping them in memory and retrying", exc.reason)
            self._stalled = True
            self._buffer[:0] = batch
        except Exception as exc:
            if not refused_value(exc):  # locked, connection lost, ...: keep the events for the next flush
                log.warning("could not write usage events (%s); will retry", type(exc).__name__)
                self._buffer[:0] = batch
                return
            # a value the database refuses: write the others, drop only the rows it refuses
            written, dropped = await self._one_by_one(batch)
            log.error("the database refused %d usage event(s); dropped them, wrote %d", dropped, len(written))
            if written and self.observe is not None:
                self.observe(written)
        else:
            if self._stalled:
                log.info("usage events written again")
            self._stalled = False
            if self.observe is not None:
                self.observe(batch)

    async def _one_by_one(self, batch: list[UsageRecord]) -> tuple[list[UsageRecord], int]:
        """Writes each record of a refused batch alone, dropping only rows whose values the database
        refuses (store/faults.refused_value); any other error puts the rest back for the next
        flush. Returns (the records written, how many dropped). Retrying the whole batch kept one bad
        row in front of every later one, so no usage was recorded again."""
        written: list[UsageRecord] = []
        dropped = 0
        for i, rec in enumerate(batch):
            try:
                await self._store.run(insert_batch, [rec])
                written.append(rec)
            except Exception as exc:
                if refused_value(exc) and not isinstance(exc, StorageUnavailable):
                    dropped += 1  # this row's values: dropped
                    continue
                self._buffer[:0] = batch[i:]  # the storage or the connection: the rest waits for the next flush
                break
        return written, dropped


async def usage_recorder_ctx(app: web.Application):
    """cleanup_ctx: flushes every FLUSH_INTERVAL seconds (sooner at FLUSH_AT events), and once
    more on the way out; registered after the store's, so this runs before the store closes."""
    recorder = UsageRecorder(app[keys.STORE])
    app[keys.USAGE] = recorder
    async with every(FLUSH_INTERVAL, recorder.flush, what="usage flush", logger=log, wake=recorder.wake):
        yield
    await recorder.flush()
