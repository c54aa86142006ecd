"""Named places in a durable job where a test can make the worker die (design rule 5).

A job promises that a worker killed at any line and restarted ends where an uninterrupted
run would have. Killing a process at a chosen line from outside is not repeatable, so the
job's steps mark the places that matter — between every call to the outside world and
every database write — with ``crash_point("build.defined")``, and a test arms one:

- in-process, ``crashing_at(name)`` raises ``Crash`` there, which unwinds the job like a
  death would: no handler of the job's catches it and its open transaction rolls back;
- in a real worker, ``ZHENGYUN_CRASH_AT=name`` in its environment has it SIGKILL itself
  there, leaving its queue, its database connection and the hypervisor as a power cut
  would.

Unarmed, a crash point costs one dictionary lookup and does nothing; nothing in the
platform arms one.
"""

import os
import signal
from contextlib import contextmanager

ENVIRONMENT_VARIABLE = "ZHENGYUN_CRASH_AT"


class Crash(BaseException):
    """The worker "died" at an armed crash point. A ``BaseException``, so the job's own
    ``except Exception`` handlers let it through as they would let a real death."""


# crash point → how many more passes before it fires (1: the next one), for this process.
_armed = {}
_kill_at = os.environ.get(ENVIRONMENT_VARIABLE, "")


def crash_point(name):
    """Die here if a test armed ``name``; otherwise nothing."""
    if name == _kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    if name in _armed:
        _armed[name] -= 1
        if _armed[name] == 0:
            del _armed[name]
            raise Crash(name)


@contextmanager
def crashing_at(name, passes=1):
    """Raise ``Crash`` the ``passes``-th time the job passes crash point ``name`` within
    the block (later passes go on unharmed)."""
    _armed[name] = passes
    try:
        yield
    finally:
        _armed.pop(name, None)
