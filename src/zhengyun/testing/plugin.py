"""pytest plugin loaded before Django starts (``-p zhengyun.testing.plugin``).

Gives each test process its own data directory, queue name and cache prefix, so test runs
never touch a developer's ``./var`` nor each other's jobs (xdist workers, a running
``make run``). API throttling is relaxed; the test of 429 sets its own rate.
"""

import atexit
import os
import shutil
import tempfile
import uuid

_run = uuid.uuid4().hex[:8]
_data_dir = tempfile.mkdtemp(prefix="zhengyun-test-")
os.environ["ZHENGYUN_DATA_DIR"] = _data_dir
_owner = os.getpid()


@atexit.register
def _remove_data_dir():
    # The process's keys, queue and (kept, see conftest) test database go with it; not with
    # a child forked by a test, which shares them.
    if os.getpid() == _owner:
        shutil.rmtree(_data_dir, ignore_errors=True)


os.environ["ZHENGYUN_QUEUE_NAME"] = f"zhengyun-test-{_run}"
os.environ["ZHENGYUN_CACHE_PREFIX"] = f"zhengyun-test-{_run}"
os.environ.setdefault("ZHENGYUN_THROTTLE_ANON", "100000/minute")
os.environ.setdefault("ZHENGYUN_THROTTLE_USER", "100000/minute")
