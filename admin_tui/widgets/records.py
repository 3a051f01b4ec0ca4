"""A DataTable of records keyed by id that keeps the cursor on the same record across reloads."""

from __future__ import annotations

from typing import Any, Iterable

from textual.widgets import DataTable


class RecordTable(DataTable):
    DEFAULT_CSS = """
    RecordTable {
        height: 1fr;
        min-height: 4;
    }
    """

    def __init__(self, columns: Iterable[tuple[str, int | None]], **kw: Any):
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self._columns = list(columns)
        self.records: dict[str, Any] = {}

    def on_mount(self) -> None:
        for label, width in self._columns:
            self.add_column(label, width=width)

    def set_records(self, rows: Iterable[tuple[str, Any, list[Any]]]) -> None:
        """rows: (key, record, cells). The cursor stays on the previously selected record, or, if
        that one is gone (revoked, filtered out), on the row that took its place."""
        previous, previous_row = self.selected_key, self.cursor_row
        self.clear()
        self.records = {}
        for key, record, cells in rows:
            self.records[key] = record
            self.add_row(*cells, key=key)
        if previous in self.records:
            self.move_cursor(row=self.get_row_index(previous))
        elif self.row_count:
            self.move_cursor(row=min(previous_row, self.row_count - 1))

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # cursor outside the rows while the table is being rebuilt
            return None

    @property
    def selected(self) -> Any:
        key = self.selected_key
        return self.records.get(key) if key is not None else None
