"""The line between services and their callers: views, never rows.

Pages, the CLI and the TUI get frozen dataclasses that a service built while the database was
open. A peewee row handed out instead would load a foreign key lazily on first touch, which on
the server means a blocking query on the event loop (and outside any transaction). The page
renderer and the TUI's service calls run `check_no_rows` on what they are given, so such a
slip fails the first test that reaches it rather than a busy server.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import peewee

_LEAVES = (str, bytes, int, float, bool, type(None))
MAX_DEPTH = 6  # views nest a level or two; deeper structures are not service results


class RowLeak(TypeError):
    """A peewee Model instance was about to leave the services; the message says where."""


def check_no_rows(value: Any, where: str = "value") -> None:
    """Raises RowLeak if `value` is, or holds (in dict values, lists, tuples, sets or dataclass
    fields, up to MAX_DEPTH levels), a peewee Model instance. Cost: one isinstance per item."""
    _walk(value, where, 0)


def _walk(value: Any, where: str, depth: int) -> None:
    if isinstance(value, _LEAVES) or depth > MAX_DEPTH:
        return
    if isinstance(value, peewee.Model):
        raise RowLeak(f"{where} is a {type(value).__name__} row; services hand out view dataclasses")
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{where}[{key!r}]", depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            _walk(item, f"{where}[{i}]", depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _walk(getattr(value, f.name), f"{where}.{f.name}", depth + 1)
