"""``zhengyun serve --workers``: several web processes on one port, kept running (R-G2).

Each test runs the real command in a process of its own, as an operator would.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import redis

REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(tmp_path, *args, **env):
    environment = {**os.environ, "ZHENGYUN_DATA_DIR": str(tmp_path), **env}
    environment.pop("DATABASE_URL", None)  # /healthz needs no database
    return subprocess.Popen(
        [sys.executable, "-m", "zhengyun.cli", "serve", *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return set(map(int, listing.read().split()))


def healthy(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
        return answer.status == 200


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("not reached in time")


@pytest.fixture
def shared_cache():
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        # CI has the server (.ci/run starts it); elsewhere say what is missing.
        message = f"a Redis server at {REDIS}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return REDIS


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for children")
def test_workers_share_the_port_and_a_killed_one_is_replaced(tmp_path, shared_cache):
    port = free_port()
    server = serve(tmp_path, "--port", str(port), "--workers", "2", REDIS_URL=shared_cache)
    try:
        wait_for(lambda: len(children(server.pid)) == 2 and healthy(port))
        first = children(server.pid)
        assert all(healthy(port) for _ in range(20))

        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(children(server.pid)) == 2 and victim not in children(server.pid))
        assert healthy(port)

        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, err
    assert f"web worker {victim} was killed by signal 9; starting another" in err
    assert "web server stopped" in out
    for pid in first - {victim}:
        assert not os.path.exists(f"/proc/{pid}"), "a worker outlived the server"
    with pytest.raises(OSError):
        healthy(port)


def test_several_workers_without_a_shared_cache_are_refused(tmp_path):
    # Each process counting rate limits in its own memory would allow each limit N times.
    server = serve(tmp_path, "--port", str(free_port()), "--workers", "3", REDIS_URL="")
    _out, err = server.communicate(timeout=60)
    assert server.returncode == 1
    assert "Several web workers share their counts in Redis: set REDIS_URL." in err


def test_no_workers_is_refused(tmp_path):
    server = serve(tmp_path, "--workers", "0")
    _out, err = server.communicate(timeout=60)
    assert server.returncode == 1
    assert "--workers must be at least 1." in err
