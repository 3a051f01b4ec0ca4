"""The SQLite store: one file in the data dir, opened one way (store.database)."""
