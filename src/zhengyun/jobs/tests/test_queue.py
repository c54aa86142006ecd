"""Jobs run through the real queue (SQLite by default, Redis when REDIS_URL is set) and leave
a JobRun record and a metric behind."""

import datetime
import time

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from zhengyun.accounts import services as accounts
from zhengyun.accounts.models import ApiToken
from zhengyun.accounts.tasks import expire_api_tokens_task
from zhengyun.audit.models import AuditEvent
from zhengyun.jobs.models import JobRun, JobStatus
from zhengyun.testing.world import build_world


@pytest.fixture
def consumer():
    """A real Huey consumer on the configured storage, in this process's threads."""
    HUEY.flush()
    worker = HUEY.create_consumer(
        workers=1, worker_type="thread", periodic=False, check_worker_health=False
    )
    worker.start()
    yield worker
    worker.stop(graceful=True)
    HUEY.flush()


def wait_for_run(timeout=30):
    """The finished JobRun, once the consumer has executed the task."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = JobRun.objects.exclude(status=JobStatus.RUNNING).first()
        if run:
            return run
        time.sleep(0.05)
    raise AssertionError("the worker did not run the task")


@pytest.mark.django_db(transaction=True)
def test_expiring_api_tokens_through_the_real_queue(consumer):
    world = build_world()
    stale, _ = accounts.create_api_token(actor=world.staff_a, name="old")
    fresh, _ = accounts.create_api_token(actor=world.staff_a, name="new")
    ApiToken.objects.filter(pk=stale.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    assert not HUEY.immediate  # a real queue in SQLite or Redis
    expire_api_tokens_task()  # enqueue; Huey keeps no results for periodic tasks
    run = wait_for_run()

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.expired_at is not None and fresh.expired_at is None
    event = AuditEvent.objects.get(action="accounts.expire_api_token")
    assert event.object_id == str(stale.pk) and event.channel == "task"
    assert event.actor_label == "system"
    assert run.status == JobStatus.SUCCEEDED and run.result == "1"
    assert run.task.endswith("expire_api_tokens_task")


def test_token_expiry_is_scheduled_every_five_minutes():
    task = next(
        t for t in HUEY._registry.periodic_tasks if t.name.endswith("expire_api_tokens_task")
    )
    assert task.validate_datetime(datetime.datetime(2026, 1, 1, 10, 5))
    assert not task.validate_datetime(datetime.datetime(2026, 1, 1, 10, 7))


@pytest.mark.django_db
def test_failed_job_is_recorded(monkeypatch):
    from zhengyun.jobs.runner import tracked

    @tracked
    def broken():
        raise ValueError("disk full")

    with pytest.raises(ValueError):
        broken()
    run = JobRun.objects.get()
    assert run.status == JobStatus.FAILED and "disk full" in run.result
