"""Counters in the shared cache for rate limits and quotas (R-D3).

``count`` adds one to several counters and gives their new values, in one round trip.
``admit`` says whether a call fits every window of a limit. On Redis, shared by several
processes, each process takes calls from the shared counters in advance — a lease, as
Kong's and Doorman's limiters do — and admits most calls without a round trip. A lease is
at most a sixty-fourth of what the window has left (and 32 calls), so near its limit a
window is counted one call at a time: no call is admitted beyond the limit, and calls
leased to an idle process refuse others early by a small fraction of what was left. On the
local-memory cache of the embedded default (one process) every call is counted exactly.

Django adds one to a cached counter in two round trips to Redis (does the key exist? add
one) and builds a new Redis client for each operation, which costs more than the round
trip. Here one script adds to each counter and gives a new one its expiry, in one command,
through one client per thread's cache backend.
"""

import threading
from collections import OrderedDict

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

# KEYS: the counters; ARGV: each one's lifetime in seconds, then the calls to add to each,
# then each one's limit. Adds what fits under the limit; returns, for each, what it added
# and the total it had before.
_ADD_SCRIPT = """
local n, out = #KEYS, {}
for i, key in ipairs(KEYS) do
  local add, limit = tonumber(ARGV[n + i]), tonumber(ARGV[2 * n + i])
  local before = tonumber(redis.call('GET', key) or '0')
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
LEASE_SHARE = 64  # a lease takes at most this fraction of what a window has left
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
            backend.decr(key)
    return exceeded


class Leases:
    """Calls this process took in advance from shared counters, by counter."""

    def __init__(self):
        self._lock = threading.Lock()
        self._windows = OrderedDict()  # key -> [calls left in the lease, last total seen]

    def admit(self, backend, windows):
        taken, short = [], []
        with self._lock:
            for window in windows:
                lease = self._windows.get(window[0])
                if lease and lease[0] > 0:
                    lease[0] -= 1
                    taken.append(window)
                else:
                    short.append(window)
        if short:
            added = _add_in_redis(
                backend,
                [(key, seconds, self._size(key, limit), limit) for key, seconds, limit in short],
            )
            with self._lock:
                for window, (fits, before) in zip(short, added, strict=True):
                    lease = self._windows.setdefault(window[0], [0, 0])
                    lease[1] = before + fits
                    if fits:
                        lease[0] += fits - 1  # one is this call's
                        taken.append(window)
                    self._windows.move_to_end(window[0])
                while len(self._windows) > LEASED_KEYS:
                    self._windows.popitem(last=False)
        if len(taken) == len(windows):
            return None
        with self._lock:  # refused: what it took from other windows goes back
            for key, _seconds, _limit in taken:
                if key in self._windows:
                    self._windows[key][0] += 1
        return next(window for window in windows if window not in taken)

    def _size(self, key, limit):
        seen = self._windows.get(key, (0, 0))[1]
        return max(1, min(LEASE_MOST, (limit - seen) // LEASE_SHARE))


_leases = Leases()


def _add_in_redis(backend, windows):
    """Add up to ``amount`` to each counter ``(key, seconds, amount, limit)``, as much as
    keeps it within ``limit``: for each, what was added and the total before."""
    if getattr(_local, "backend", None) is not backend:
        # The backend's own connection pool (Django's RedisCacheClient).
        client = backend._cache.get_client(write=True)
        _local.backend, _local.script = backend, client.register_script(_ADD_SCRIPT)
    replies = _local.script(
        keys=[backend.make_and_validate_key(window[0]) for window in windows],
        args=[part for n in (1, 2, 3) for part in (window[n] for window in windows)],
    )
    return list(zip(replies[::2], replies[1::2], strict=True))


def _count_in_cache(backend, key, seconds):
    try:
        return backend.incr(key)
    except ValueError:  # the window's first count, or its key expired: start counting
        backend.add(key, 0, seconds)
        return backend.incr(key)
