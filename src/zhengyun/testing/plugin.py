"""pytest plugin loaded before Django starts (``-p zhengyun.testing.plugin``).

Gives each test process its own data directory, queue name and cache prefix, so test runs
never touch a developer's ``./var`` nor each other's jobs (xdist workers, a running
``make run``). API throttling is relaxed; the test of 429 sets its own rate.
"""

import os
import tempfile
import uuid

_run = uuid.uuid4().hex[:8]
os.environ["ZHENGYUN_DATA_DIR"] = tempfile.mkdtemp(prefix="zhengyun-test-")
os.environ["ZHENGYUN_QUEUE_NAME"] = f"zhengyun-test-{_run}"
os.environ["ZHENGYUN_CACHE_PREFIX"] = f"zhengyun-test-{_run}"
os.environ.setdefault("ZHENGYUN_THROTTLE_ANON", "100000/minute")
os.environ.setdefault("ZHENGYUN_THROTTLE_USER", "100000/minute")
