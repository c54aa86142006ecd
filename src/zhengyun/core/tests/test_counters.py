"""Rate-limit counters (R-D3) count the same on the embedded cache and on Redis, and expire."""

import os
import time
import uuid

import pytest
import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from zhengyun.core import counters

REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"


@pytest.fixture(params=["local memory", "redis"])
def backend(request, monkeypatch):
    prefix = f"counters-{uuid.uuid4()}"
    if request.param == "redis":
        try:
            redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            # CI has the server (.ci/run starts it); elsewhere say what is missing.
            if os.environ.get("CI"):
                pytest.fail(f"a Redis server at {REDIS}: {exc}")
            pytest.skip(f"a Redis server at {REDIS}: {exc}")
        cache = RedisCache(REDIS, {"KEY_PREFIX": prefix})
    else:
        cache = LocMemCache(prefix, {})
    monkeypatch.setattr(counters, "caches", {"default": cache})
    return cache


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
