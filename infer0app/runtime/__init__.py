"""The background work of a running server, each piece an aiohttp cleanup context:

- cache_watch.py: clears the token and target caches when the database's cache epoch moves;
- target_cache.py: the in-memory cache of opened provider targets it clears;
- usage_recorder.py: usage events recorded off the request path, written in batches;
- limit_gate.py: the limit gate's lease flusher, counter pruning and shutdown report;
- oauth_purge.py: hourly deletion of OAuth codes and tokens nobody can use any more;
- usage_rollup.py: hourly roll-up of raw usage rows past --usage-raw-days into daily rows;
- keyring_watch.py: picks up a rotated keyring (services/runtime.py holds the logic);
- periodic.py: the one helper that runs each of them every N seconds.
"""
