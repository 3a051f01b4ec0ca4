"""Domain logic shared by the server, the CLI and the TUI. No aiohttp, no Textual here.

The data-access rule: a public service function takes the `Store` as its first parameter if
and only if it touches the database, and then does that work through it: writes inside
`store.write()` (the one write path), reads inside `store.read()` (one snapshot across its
SELECTs) or through `store.db`. Functions that touch no database (validation, masking,
`providers.target_for` on a row another service loaded) take no store. The server calls them
through `await store.run(fn, ...)`, the CLI directly, the TUI through `AdminContext.call`.

What leaves a service is plain data: frozen view dataclasses (`UserView`, `ConnectionView`,
`AppView`, `GrantView`, the admin_queries rows...) built while the database is open, never
peewee rows, so nothing can load lazily later on the event loop or the UI thread. Pages and the
TUI check this on every render and call (services/views.py).

Audit actors follow one format (services/audit.py).
"""
