"""For tests that start the platform's own processes (``zhengyun run``, a worker, a shell)."""

import os


def embedded_environment():
    """This process's environment without the distributed switch: child processes run on
    the embedded default whatever database the suite itself runs on."""
    return {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
