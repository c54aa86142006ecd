"""Rate-limit counters (R-D3) count the same on the embedded cache and on Redis, and expire;
processes sharing Redis admit no call beyond a limit."""

import os
import threading
import time
import uuid

import pytest
import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from zhengyun.core import counters

REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"


def _redis_cache(prefix):
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        # CI has the server (.ci/run starts it); elsewhere say what is missing.
        if os.environ.get("CI"):
            pytest.fail(f"a Redis server at {REDIS}: {exc}")
        pytest.skip(f"a Redis server at {REDIS}: {exc}")
    return RedisCache(REDIS, {"KEY_PREFIX": prefix})


@pytest.fixture(params=["local memory", "redis"])
def backend(request, monkeypatch):
    prefix = f"counters-{uuid.uuid4()}"
    cache = _redis_cache(prefix) if request.param == "redis" else LocMemCache(prefix, {})
    monkeypatch.setattr(counters, "caches", {"default": cache})
    return cache


@pytest.fixture
def shared():
    """Redis as several processes share it."""
    return _redis_cache(f"counters-{uuid.uuid4()}")


def test_each_window_counts_its_own_calls(backend):
    windows = [("grant:7:minute", 120), ("grant:7:day", 172800)]
    assert counters.count(windows) == [1, 1]
    assert counters.count(windows) == [2, 2]
    assert counters.count([("grant:7:day", 172800), ("grant:8:day", 172800)]) == [3, 1]
    assert backend.get("grant:7:minute") == 2


def test_a_window_starts_again_once_it_expires(backend):
    assert counters.count([("refused:10.0.0.1", 1)]) == [1]
    assert counters.count([("refused:10.0.0.1", 1)]) == [2]
    time.sleep(1.1)
    assert counters.count([("refused:10.0.0.1", 1)]) == [1]


def test_a_call_is_admitted_while_it_fits_every_window(backend):
    minute, day = ("grant:7:minute", 120, 3), ("grant:7:day", 172800, 4)
    assert [counters.admit([minute, day]) for _ in range(4)] == [None, None, None, minute]
    # The refused call was not counted: one more fits the day, none the minute.
    assert counters.admit([("grant:7:minute:next", 120, 3), day]) is None
    assert counters.admit([("grant:7:minute:next", 120, 3), day]) == day


def test_processes_sharing_a_limit_admit_exactly_the_limit_between_them(shared):
    first, second = counters.Leases(), counters.Leases()
    window = [("grant:9:minute", 120, 3000)]
    admitted = {first: 0, second: 0}
    refused = set()
    while len(refused) < 2:
        for process in (first, second, second):  # one process calls twice as often
            if process in refused:
                continue
            if process.admit(shared, window) is None:
                admitted[process] += 1
            else:
                refused.add(process)
    assert sum(admitted.values()) == 3000 and admitted[second] > admitted[first]


def test_threads_of_a_process_admit_no_more_than_the_limit(shared):
    process, window = counters.Leases(), [("grant:10:minute", 120, 3000)]
    admitted = []

    def caller():
        admitted.extend(process.admit(shared, window) is None for _ in range(400))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 3000


def test_far_from_its_limit_a_process_counts_calls_in_leases(shared, monkeypatch):
    trips = []
    add = counters._add_in_redis
    monkeypatch.setattr(counters, "_add_in_redis", lambda *a, **k: trips.append(1) or add(*a, **k))
    process = counters.Leases()
    windows = [("grant:11:minute", 120, 100_000), ("grant:11:day", 172800, 1_000_000)]
    assert all(process.admit(shared, windows) is None for _ in range(320))
    assert len(trips) <= 11  # 32 calls a round trip
    assert shared.get("grant:11:day") >= 320


def test_a_process_idle_while_others_used_the_window_takes_only_what_is_left(shared):
    process, key = counters.Leases(), "grant:12:minute"
    assert process.admit(shared, [(key, 120, 3000)]) is None  # leased 32, used 1
    # Other processes' calls meanwhile: 2,990 in all.
    counters._add_in_redis(shared, [(key, 120, 2958, counters.UNLIMITED)])
    admitted = 1
    while process.admit(shared, [(key, 120, 3000)]) is None:
        admitted += 1
    assert admitted == 32 + 10


def test_a_lease_belongs_to_its_cache_s_counter_not_to_a_name(shared):
    process = counters.Leases()
    other = _redis_cache(f"counters-{uuid.uuid4()}")
    window = [("grant:13:day", 172800, 3000)]
    assert process.admit(shared, window) is None  # leased 32 under the first prefix
    assert process.admit(other, window) is None
    assert other.get("grant:13:day") == 32  # its own lease, not the first one's
