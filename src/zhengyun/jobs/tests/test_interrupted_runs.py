"""A run whose worker process died says so: it is marked interrupted rather than staying
"running" for ever, and only runs of this host's dead processes are touched."""

import socket
import subprocess
import sys

import pytest

from zhengyun.jobs.models import JobRun, JobStatus
from zhengyun.jobs.services import INTERRUPTED, start_run, sweep_interrupted, this_worker

pytestmark = pytest.mark.django_db


def dead_pid():
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def test_runs_of_a_dead_worker_on_this_host_are_marked_interrupted():
    host = socket.gethostname()
    killed = JobRun.objects.create(task="t.killed", status="running", worker=f"{host}:{dead_pid()}")
    mine = start_run("t.mine")
    elsewhere = JobRun.objects.create(task="t.far", status="running", worker="other-host:1")
    old = JobRun.objects.create(task="t.old", status="running")  # from before workers were named
    assert mine.worker == this_worker()

    assert sweep_interrupted() == 1
    killed.refresh_from_db()
    assert (killed.status, killed.result) == (JobStatus.INTERRUPTED, INTERRUPTED)
    assert killed.finished_at is not None
    for run in (mine, elsewhere, old):
        run.refresh_from_db()
        assert run.status == JobStatus.RUNNING
    assert sweep_interrupted() == 0


def test_a_worker_starting_under_a_dead_ones_number_marks_its_runs():
    earlier = JobRun.objects.create(task="t.earlier", status="running", worker=this_worker())
    assert sweep_interrupted() == 0  # this number is alive: it could be ours
    assert sweep_interrupted(starting=True) == 1
    earlier.refresh_from_db()
    assert earlier.status == JobStatus.INTERRUPTED
