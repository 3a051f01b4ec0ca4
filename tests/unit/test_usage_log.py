"""Usage batches: every record lands once, with its own values, however the batch is chunked."""

from __future__ import annotations

import time

from infer0app.services.datadir import open_data_dir
from infer0app.services.usage_log import CHUNK, UsageRecord, insert_batch
from infer0app.store.models import Grant, UsageEvent
from tests.support.seed import seed_grant


def test_a_batch_of_several_chunks_stores_every_record_and_touches_the_grant(tmp_path):
    store, vault = open_data_dir(tmp_path / "d")
    try:
        s = seed_grant(store, vault, kind="sandbox")
        count = 2 * CHUNK + 7  # two full chunks and a remainder
        base = time.time() + 100  # later than the grant's last use (its token was just issued)
        records = [UsageRecord(s.user_id, s.app_id, s.grant_id, "openai", f"model-{i}", 200 + (i % 3), i / 10,
                               i % 2 == 0, prompt_tokens=i, completion_tokens=2 * i, cached_tokens=i // 2,
                               created_at=base + i) for i in range(count)]
        assert insert_batch(store, records) == count
        rows = list(UsageEvent.select().order_by(UsageEvent.created_at).dicts())
        assert len(rows) == count
        for i, row in enumerate(rows):
            assert (row["model"], row["status"], row["prompt_tokens"], row["completion_tokens"],
                    row["cached_tokens"], row["streamed"], row["latency_ms"]) == \
                (f"model-{i}", 200 + (i % 3), i, 2 * i, i // 2, i % 2 == 0, i / 10)
        assert Grant.get_by_id(s.grant_id).last_used_at == base + count - 1
    finally:
        store.close()
