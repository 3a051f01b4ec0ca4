"""services/row_ids.py: ids typed by people, parsed before they reach a 64-bit database column."""

from infer0app.services.row_ids import MAX_ROW_ID, parse_row_id


def test_row_ids_within_64_bits_parse():
    assert parse_row_id("1") == 1 and parse_row_id(" 42 ") == 42 and parse_row_id(7) == 7
    assert parse_row_id(str(MAX_ROW_ID)) == MAX_ROW_ID == 2**63 - 1


def test_everything_else_is_none():
    for bad in ("", "0", "-1", "+1", "1.0", "1e3", "0x10", "١٢", "²", str(MAX_ROW_ID + 1), "9" * 26,
                None, True, 0, -5, 2**63, 1.0, [1]):
        assert parse_row_id(bad) is None, bad
