"""Several web processes behind one listening socket (``zhengyun serve --workers N``).

A Python process runs one thread at a time, so one waitress process uses about one core
however many threads it has. Binding the socket first and forking the workers after lets
the kernel hand each new connection to whichever worker accepts it, on every core. The
parent only supervises: a worker that dies is replaced, SIGTERM or SIGINT stops them all
(each finishes what it is answering), and a worker that exits by itself right after
starting stops everything, since a new one would exit the same way. Workers stop when the
parent dies, however it dies, so none keeps the port unsupervised.
"""

import contextlib
import ctypes
import os
import signal
import socket
import sys
import time
import traceback

# A worker exiting by itself sooner than this failed to start, not at some request.
START_SECONDS = 5
GRACE_SECONDS = 15
STOPS = {signal.SIGTERM, signal.SIGINT}
PR_SET_PDEATHSIG = 1  # Linux's prctl option: a signal to get when the parent dies


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
        # A stop signal arriving while forking waits until each side has its own handlers.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
        try:
            pid = os.fork()
            if pid == 0:
                _work(run_worker)
            children[pid] = time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)

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
        started = children.pop(pid, None)
        if started is None:  # not a worker: an orphan adopted when running as PID 1
            continue
        code = os.waitstatus_to_exitcode(status)
        if code >= 0 and time.monotonic() - started < START_SECONDS:
            say(f"web worker {pid} exited on starting (status {code}); stopping")
            failed = True
            break
        how = f"was killed by signal {-code}" if code < 0 else f"exited (status {code})"
        say(f"web worker {pid} {how}; starting another")
        if not stopping:
            spawn()
    _stop_all(children)
    return 1 if failed else 0


def _work(run_worker):
    """The worker's whole life, in the forked child; never returns."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _stop_with_parent()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
    status = 0
    try:
        run_worker()
    except BaseException:  # noqa: BLE001 - the parent reads the status, the log the trace
        traceback.print_exc()
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(status)


def _stop_with_parent():
    # Linux only; elsewhere a worker outlives a parent killed outright.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(0)


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
