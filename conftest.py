"""Fixtures shared by every test directory."""

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys

import pytest
from django.db import connection
from django.utils import translation

from zhengyun.audit import triggers
from zhengyun.testing.processes import copy_database, embedded_environment
from zhengyun.testing.world import build_world, token_client


def _uses_database(item):
    marker = item.get_closest_marker("django_db")
    return marker is not None or {"db", "transactional_db", "live_server"} & set(
        getattr(item, "fixturenames", ())
    )


def _transactional(item):
    marker = item.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    # The audit trail's append-only triggers, in place for every test that touches the
    # database (a transactional test before it may have lifted them).
    if _uses_database(item):
        triggers.install(connection)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    # Emptying the database after a transactional test deletes audit events, which the
    # triggers refuse: lift them just before pytest-django flushes.
    if _transactional(item):
        triggers.remove(connection)


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    # A console request in English leaves English active in this thread; the next test
    # starts from the platform's default language again.
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _audit_archive_per_test(settings, tmp_path):
    # Test databases of parallel workers start their trails at the same sequence numbers:
    # each test archives purged stretches in a directory of its own.
    settings.ZHENGYUN_AUDIT_ARCHIVE_DIR = tmp_path / "audit-archive"


@contextlib.contextmanager
def _one_process_at_a_time(lock_file):
    with open(lock_file, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def migrated_database_template(tmp_path_factory):
    """An embedded database migrated once per test run, to be copied (``copy_database``),
    never written. Migrating takes longer than most tests, so the first of the parallel
    workers to need it migrates it while the others wait for it."""
    run_root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_root = run_root.parent  # the workers' directories share this one
    data = run_root / "migrated"
    with _one_process_at_a_time(run_root / "migrated.lock"):
        if not data.exists():
            unfinished = run_root / "migrating"
            shutil.rmtree(unfinished, ignore_errors=True)
            subprocess.run(
                [sys.executable, "-m", "zhengyun.cli", "migrate", "--no-input", "-v0"],
                env={**embedded_environment(), "ZHENGYUN_DATA_DIR": str(unfinished)},
                check=True,
                timeout=300,
            )
            unfinished.rename(data)
    return data / "zhengyun.sqlite3"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    # On the embedded database each worker's test database starts as a copy of the migrated
    # template, kept (``django_db_keepdb``), so that Django only finds it current.
    from django.db import connections

    test_settings = connections["default"].settings_dict
    if _embedded(test_settings):
        template = request.getfixturevalue("migrated_database_template")
        copy_database(template, test_settings["TEST"]["NAME"])


@pytest.fixture(scope="session")
def django_db_keepdb(request):
    from django.db import connections

    return request.config.getvalue("reuse_db") or _embedded(connections["default"].settings_dict)


def _embedded(database_settings):
    return database_settings["ENGINE"] == "django.db.backends.sqlite3"


@pytest.fixture
def migrated_data_dir(tmp_path, migrated_database_template):
    """A data directory whose embedded database is migrated, for tests that start the
    platform's own processes: a copy of one migrated once per test process, because
    migrating takes longer than most such tests. Only the database is copied, so each
    directory still makes its own keys."""
    copy_database(migrated_database_template, tmp_path / "zhengyun.sqlite3")
    return tmp_path


@pytest.fixture
def world(db):
    """Two departments in two prefectures and a person for every role."""
    return build_world()


@pytest.fixture
def api_as():
    """``api_as(user)``: an API client carrying a real token of ``user``."""
    return token_client


def pytest_configure(config):
    # Argon2 is deliberately slow; tests that are not about hashing use a fast hasher.
    # (accounts' tests check that the real settings put argon2 first.)
    from django.conf import settings

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "zhengyun.accounts.hashers.MachineSecretHasher",  # OIDC client secrets, as in use
    ]
