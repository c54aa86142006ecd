"""``zhengyun run`` (what ``make run`` ends with): web server and worker start together, two
copies run side by side on their own PORT and data directory, and SIGTERM stops both
processes of each copy cleanly."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from zhengyun.testing.processes import copy_database, embedded_environment


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def wait_for(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                return response.read().decode()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def copies(tmp_path, migrated_database_template):
    started = []
    for name in ("first", "second"):
        data = tmp_path / name
        data.mkdir()
        copy_database(migrated_database_template, data / "zhengyun.sqlite3")
        copy_env = {
            **embedded_environment(),
            "ZHENGYUN_DATA_DIR": str(data),
            "PORT": str(free_port()),
        }
        cli = [sys.executable, "-m", "zhengyun.cli"]
        process = subprocess.Popen(
            [*cli, "run"], env=copy_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        started.append((process, copy_env, data))
    yield started
    for process, _, _ in started:
        if process.poll() is None:
            process.kill()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find child processes")
def test_two_copies_side_by_side_and_a_clean_stop(copies):
    for _, env, data in copies:
        body = wait_for(f"http://127.0.0.1:{env['PORT']}/readyz")
        assert '"status": "ok"' in body
        assert (data / "zhengyun.sqlite3").exists() and (data / "queue.sqlite3").exists()
    assert (copies[0][2] / "secret_key").read_text() != (copies[1][2] / "secret_key").read_text()

    for process, env, _ in copies:
        children = children_of(process.pid)
        assert len(children) == 2  # the web server and the worker
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        output = process.stdout.read()
        assert f"http://127.0.0.1:{env['PORT']}/" in output and "stopped" in output
        for child in children:
            assert not Path(f"/proc/{child}").exists(), f"child {child} still running"
