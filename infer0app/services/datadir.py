"""Opening the data directory: the database and the keyring, together and safely.

Used by every face (server, CLI, TUI). A missing keyring is created only for a database
that holds no sealed secret yet; otherwise the operator is told to restore it, and nothing
is overwritten.
"""

from __future__ import annotations

from pathlib import Path

from ..paths import db_path, keyring_path
from ..store.database import Store, StoreError
from ..store.models import ProviderConnection
from ..vault.keyring import KeyringError, Vault, open_or_create


def open_configured(settings, *, create: bool = True) -> tuple[Store, Vault]:
    """open_data_dir for `settings` (config.Settings): its data dir, and its PostgreSQL database
    when --database-url is set. An unreadable password file is a StoreError."""
    try:
        password = settings.database_password
    except ValueError as exc:  # config.SettingsError (services do not import config)
        raise StoreError(str(exc)) from None
    return open_data_dir(settings.data_dir, create=create, database_url=settings.database_url, password=password,
                         keyring_file=settings.keyring_file)


def keyring_location(data_dir: Path, keyring_file: str = "") -> Path:
    """The keyring file in use: `keyring_file` (--keyring-file) when given, else DIR/keyring.json."""
    return Path(keyring_file).expanduser() if keyring_file else keyring_path(data_dir)


def open_data_dir(data_dir: Path, *, create: bool = True, database_url: str = "",
                  password: str | None = None, keyring_file: str = "") -> tuple[Store, Vault]:
    """The store and the keyring of a data dir. With `database_url` (postgresql://…) the store is
    that database and the data dir holds only the keyring; with `keyring_file` the keyring is that
    file instead (one shared by every instance). KeyringError / StoreError say why not."""
    data_dir = Path(data_dir)
    if not database_url and not create and not db_path(data_dir).exists():
        raise KeyringError(f"No infer0 database in {data_dir.resolve()}. Start `infer0 serve --data-dir "
                           f"{data_dir}` once, or point --data-dir / INFER0_DATA_DIR at your data directory.")
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        data_dir.chmod(0o700)
    except OSError:  # a directory owned by someone else (e.g. a mounted volume): its owner decides
        pass
    store = Store.open(db_path(data_dir), create=create, database_url=database_url, password=password)
    try:
        has_secrets = ProviderConnection.select().where(ProviderConnection.kek_id.is_null(False)).exists()
        vault = open_or_create(keyring_location(data_dir, keyring_file), allow_create=not has_secrets,
                               given=bool(keyring_file))
    except BaseException:
        store.close()
        raise
    return store, vault
