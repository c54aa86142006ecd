"""Counters in the shared cache for rate limits and quotas (R-D3): several windows counted
in one round trip.

Django's cache adds one to a counter in two round trips to Redis (does the key exist? add
one), and the gateway counts two windows on every call. On Redis a pipeline creates each
counter with its expiry when it is new and adds one, all in one exchange; on the
local-memory cache of the embedded default (one process) each goes through the cache's API.
"""

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def count(windows):
    """Add one to each counter ``(key, seconds)``, made to expire ``seconds`` after its
    first count, and return their new values."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _count_in_redis(backend, windows)
    return [_count_in_cache(backend, key, seconds) for key, seconds in windows]


def _count_in_redis(backend, windows):
    # The backend's own client and connection pool (Django's RedisCacheClient).
    client = backend._cache.get_client(write=True)
    with client.pipeline(transaction=False) as pipe:
        for key, seconds in windows:
            full = backend.make_and_validate_key(key)
            pipe.set(full, 0, ex=seconds, nx=True)
            pipe.incr(full)
        replies = pipe.execute()
    return replies[1::2]


def _count_in_cache(backend, key, seconds):
    try:
        return backend.incr(key)
    except ValueError:  # the window's first count, or its key expired: start counting
        backend.add(key, 0, seconds)
        return backend.incr(key)
