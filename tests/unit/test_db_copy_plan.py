"""`infer0 db copy`'s plan: how the two ends are named, and the order tables are filled in."""

from __future__ import annotations

from pathlib import Path

import peewee
import pytest

from infer0app.services.db_copy import SKIPPED_TABLES, copy_order, parse_endpoint
from infer0app.services.errors import ValidationError
from infer0app.store import models


def test_sqlite_urls_and_paths_name_the_file():
    assert parse_endpoint("sqlite:///var/lib/infer0/infer0.sqlite3").path == Path("/var/lib/infer0/infer0.sqlite3")
    assert parse_endpoint("sqlite:////var/lib/x.sqlite3").path == Path("/var/lib/x.sqlite3")
    assert parse_endpoint("/srv/infer0.sqlite3").kind == "sqlite"


def test_postgres_urls_keep_the_password_out_of_the_label():
    end = parse_endpoint("postgresql://infer0:s3cret-pw@db:5432/infer0", password=None)
    assert end.kind == "postgres" and "s3cret-pw" not in end.label
    assert parse_endpoint("postgres://u@h/db", password="from-file").password == "from-file"


@pytest.mark.parametrize("bad", ["", "mysql://h/db", "sqlite://"])
def test_other_urls_are_refused_with_a_message(bad):
    with pytest.raises(ValidationError) as err:
        parse_endpoint(bad)
    assert "sqlite:///PATH" in err.value.message


def test_every_table_comes_after_the_tables_it_references():
    order = copy_order()
    by_table = {m._meta.table_name: m for m in models.ALL_MODELS}
    assert set(order) == set(by_table) - set(SKIPPED_TABLES)
    for table in order:
        for field in by_table[table]._meta.sorted_fields:
            if isinstance(field, peewee.ForeignKeyField) and field.rel_model._meta.table_name != table:
                assert order.index(field.rel_model._meta.table_name) < order.index(table), (table, field.name)
