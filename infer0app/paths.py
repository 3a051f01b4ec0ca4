"""Where things live: the data directory and bundled resources.

`resource_path()` works both from a source checkout and inside the PyInstaller bundle,
where files are unpacked under `sys._MEIPASS`.
"""

from __future__ import annotations

import sys
from pathlib import Path

DB_FILENAME = "infer0.sqlite3"
KEYRING_FILENAME = "keyring.json"


def project_root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    return Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    return project_root().joinpath(*parts)


def templates_dir() -> Path:
    return resource_path("templates")


def static_dir() -> Path:
    return resource_path("templates", "static")


def db_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_FILENAME


def keyring_path(data_dir: Path) -> Path:
    return Path(data_dir) / KEYRING_FILENAME
