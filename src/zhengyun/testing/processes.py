"""For tests that start the platform's own processes (``zhengyun run``, a worker, a shell)."""

import os
import sqlite3


def embedded_environment():
    """This process's environment without the distributed switch: child processes run on
    the embedded default whatever database the suite itself runs on."""
    return {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}


def copy_database(source, target):
    """Copy the SQLite database ``source`` to ``target`` through SQLite's backup, which
    takes in what a write-ahead log still holds (a file copy would miss it)."""
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    original.close()
    copy.close()
