"""Counters in the shared cache for rate limits and quotas (R-D3).

``count`` adds one to several counters and gives their new values, in one round trip.
``admit`` says whether a call fits every window of a limit. On Redis, shared by several
processes, each process takes calls from the shared counters in advance — a lease, as
Kong's and Doorman's limiters do — and admits most calls without a round trip. Redis sizes
each lease from the window's count as it stands: a sixty-fourth of what is left, at most
32 calls, at least one. Near its limit a window is therefore counted one call at a time and
no call is admitted beyond the limit; calls leased to a process that then idles refuse
others early by a small fraction of what was left (a few leases, when several threads of a
process find theirs empty at once). On the local-memory cache of the embedded default (one
process) every call is counted exactly.

Django adds one to a cached counter in two round trips to Redis (does the key exist? add
one) and builds a new Redis client for each operation, which costs more than the round
trip. Here one script adds to each counter and gives a new one its expiry, in one command,
through one client per thread's cache backend.
"""

import contextlib
import threading
from collections import OrderedDict

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

# KEYS: the counters; ARGV: each one's lifetime in seconds, then the most calls to add to
# each, then each one's limit. Adds a sixty-fourth of what is left under the limit (at
# least one call, at most the most asked for), as much of it as fits; returns, for each
# counter, what it added and the total it had before.
_ADD_SCRIPT = """
local n, out = #KEYS, {}
for i, key in ipairs(KEYS) do
  local most, limit = tonumber(ARGV[n + i]), tonumber(ARGV[2 * n + i])
  local before = tonumber(redis.call('GET', key) or '0')
  local add = math.max(1, math.min(most, math.floor((limit - before) / 64)))
  local fits = math.max(0, math.min(add, limit - before))
  if fits > 0 then
    redis.call('INCRBY', key, fits)
    if before == 0 then redis.call('EXPIRE', key, ARGV[i]) end
  end
  out[2 * i - 1], out[2 * i] = fits, before
end
return out
"""
UNLIMITED = 2**52  # exact in the script's numbers
LEASE_MOST = 32
LEASED_KEYS = 4096  # windows a process remembers leases of; forgetting one only loses calls

_local = threading.local()


def count(windows):
    """Add one to each counter ``(key, seconds)``, made to expire ``seconds`` after its
    first count, and return their new values."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        added = _add_in_redis(backend, [(key, seconds, 1, UNLIMITED) for key, seconds in windows])
        return [before + 1 for _fits, before in added]
    return [_count_in_cache(backend, key, seconds) for key, seconds in windows]


def admit(windows):
    """Count a call in each window ``(key, seconds, limit)`` if it fits all of them: None
    when it does, else the first window it would exceed (the call is then not counted)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _leases.admit(backend, windows)
    counts = [_count_in_cache(backend, key, seconds) for key, seconds, _limit in windows]
    exceeded = next((w for w, n in zip(windows, counts, strict=True) if n > w[2]), None)
    if exceeded is not None:
        for key, _seconds, _limit in windows:
            # A key the cache dropped meanwhile has nothing left to give back.
            with contextlib.suppress(ValueError):
                backend.decr(key)
    return exceeded


class Leases:
    """Calls this process took in advance from shared counters, by counter."""

    def __init__(self):
        self._lock = threading.Lock()
        self._left = OrderedDict()  # the counter's full key -> calls left in the lease

    def admit(self, backend, windows):
        keys = [backend.make_and_validate_key(key) for key, _seconds, _limit in windows]
        taken, short = [], []
        with self._lock:
            for key, window in zip(keys, windows, strict=True):
                if self._left.get(key, 0) > 0:
                    self._left[key] -= 1
                    taken.append(key)
                else:
                    short.append((key, window))
        if short:
            try:
                added = _add_in_redis(
                    backend,
                    [(key, seconds, LEASE_MOST, limit) for key, (_, seconds, limit) in short],
                    prefixed=True,
                )
            except BaseException:
                self._give_back(taken)
                raise
            with self._lock:
                for (key, _window), (fits, _before) in zip(short, added, strict=True):
                    if fits:
                        self._left[key] = self._left.get(key, 0) + fits - 1  # one is this call's
                        self._left.move_to_end(key)
                        taken.append(key)
                while len(self._left) > LEASED_KEYS:
                    self._left.popitem(last=False)
        if len(taken) == len(windows):
            return None
        self._give_back(taken)  # refused: what it took from other windows goes back
        return next(w for key, w in zip(keys, windows, strict=True) if key not in taken)

    def _give_back(self, keys):
        with self._lock:
            for key in keys:
                if key in self._left:
                    self._left[key] += 1


_leases = Leases()


def _add_in_redis(backend, windows, prefixed=False):
    """Add to each counter ``(key, seconds, most, limit)`` as the script does: for each,
    what was added and the total before. ``prefixed``: the keys are the cache's full keys."""
    if getattr(_local, "backend", None) is not backend:
        # The backend's own connection pool (Django's RedisCacheClient).
        client = backend._cache.get_client(write=True)
        _local.backend, _local.script = backend, client.register_script(_ADD_SCRIPT)
    replies = _local.script(
        keys=[w[0] if prefixed else backend.make_and_validate_key(w[0]) for w in windows],
        args=[part for n in (1, 2, 3) for part in (window[n] for window in windows)],
    )
    return list(zip(replies[::2], replies[1::2], strict=True))


def _count_in_cache(backend, key, seconds):
    try:
        return backend.incr(key)
    except ValueError:  # the window's first count, or its key expired: start counting
        backend.add(key, 0, seconds)
        return backend.incr(key)
