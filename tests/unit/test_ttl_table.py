"""The hot path's bounded TTL table (infer0app/services/ttl_table.py): what the bearer-token and
provider-target caches rely on: an entry is gone once its time is up, the table never holds more
than its bound, and expired entries (a decrypted key in the target cache) leave memory at the
next put rather than staying until evicted."""

from __future__ import annotations

from infer0app.services.ttl_table import TtlTable


def test_an_entry_lives_its_ttl_and_no_longer():
    now = [100.0]
    table = TtlTable(10, 30.0, lambda: now[0])
    table.put("k", "v")
    now[0] += 29.9
    assert table.get("k") == "v" and "k" in table
    now[0] += 0.1
    assert table.get("k") is None and "k" not in table
    assert table.get("k", "default") == "default"


def test_a_put_again_gives_a_fresh_ttl():
    now = [0.0]
    table = TtlTable(10, 10.0, lambda: now[0])
    table.put("k", 1)
    now[0] = 8.0
    table.put("k", 2)
    now[0] = 15.0
    assert table.get("k") == 2


def test_the_oldest_entries_go_first_beyond_the_bound():
    table = TtlTable(2, 60.0, lambda: 0.0)
    for key in "abc":
        table.put(key, key.upper())
    assert len(table) == 2 and table.get("a") is None and table.get("b") == "B" and table.get("c") == "C"


def test_expired_entries_leave_memory_at_the_next_put():
    now = [0.0]
    table = TtlTable(100, 5.0, lambda: now[0])
    table.put("secret", "sk-live")
    table.put("other", "x")
    now[0] = 6.0
    table.put("new", "y")
    assert len(table) == 1 and table.get("new") == "y"
    table.clear()
    assert len(table) == 0
