"""Drops usage_event's index on user_id: no query reads usage by user (usage is read by grant,
by app or by time, each with its own index), and every usage row paid to keep it: a quarter
of the insert's CPU (2.9 -> 2.2 µs a row in 256-row batches, bench/README.md). A page that
needs usage by user can add it back with the query that uses it."""


def up(store):
    store.db.execute_sql('DROP INDEX IF EXISTS "usage_event_user_id"')
