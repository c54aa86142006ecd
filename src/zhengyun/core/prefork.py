"""Several web processes behind one listening socket (``zhengyun serve --workers N``).

A Python process runs one thread at a time, so one waitress process uses about one core
however many threads it has. Binding the socket first and forking the workers after lets
the kernel hand each new connection to whichever worker accepts it, on every core. The
parent only supervises: a worker that dies is replaced, SIGTERM or SIGINT stops them all
(each finishes what it is answering), and a worker that exits by itself right after
starting stops everything, since a new one would exit the same way.
"""

import contextlib
import os
import signal
import socket
import time

# A worker exiting by itself sooner than this failed to start, not at some request.
START_SECONDS = 5
GRACE_SECONDS = 15


def listening_socket(host, port):
    """A socket bound to ``host``:``port`` and listening, to be shared by the workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def supervise(run_worker, workers, say):
    """Fork ``workers`` processes each calling ``run_worker()``; keep them running until
    SIGTERM or SIGINT. Returns the exit status: 0 when stopped, 1 when a worker could not
    start."""
    children = {}
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    def spawn():
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            status = 0
            try:
                run_worker()
            except BaseException:  # noqa: BLE001 - the parent reads the status
                status = 1
            os._exit(status)
        children[pid] = time.monotonic()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        spawn()
    failed = False
    while not stopping:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if not pid:
            time.sleep(0.2)
            continue
        started = children.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        if code >= 0 and time.monotonic() - started < START_SECONDS:
            say(f"web worker {pid} exited on starting (status {code}); stopping")
            failed = True
            break
        how = f"was killed by signal {-code}" if code < 0 else f"exited (status {code})"
        say(f"web worker {pid} {how}; starting another")
        spawn()
    _stop_all(children)
    return 1 if failed else 0


def _stop_all(children):
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while children and time.monotonic() < deadline:
        pid, _status = os.waitpid(-1, os.WNOHANG)
        if pid:
            children.pop(pid, None)
        else:
            time.sleep(0.1)
    for pid in children:
        _signal(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _signal(pid, signum):
    with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
        os.kill(pid, signum)
