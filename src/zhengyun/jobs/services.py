"""Recording job runs. Called by the ``tracked`` wrapper in the worker, never by users."""

import os
import socket

from django.utils import timezone

from zhengyun.jobs.models import JobRun, JobStatus

INTERRUPTED = "the worker stopped before the run finished"


def this_worker():
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def start_run(task, request_id=""):
    """Record that ``task`` has started."""
    return JobRun.objects.create(
        task=task, request_id=request_id, status=JobStatus.RUNNING, worker=this_worker()
    )


def finish_run(run, *, failed=False, result=""):
    """Record how the run ended."""
    run.status = JobStatus.FAILED if failed else JobStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.result = str(result)[:500]
    run.save(update_fields=["status", "finished_at", "result"])
    return run


def sweep_interrupted(starting=False):
    """Mark ``interrupted`` the runs still ``running`` whose worker process on this host is
    gone (killed, or the machine restarted). Runs of other hosts are theirs to sweep.
    ``starting``: this process has run nothing yet, so a run under its own name is an
    earlier process's that had the same number (a container's worker is often pid 1).
    Returns how many were marked."""
    host = socket.gethostname()
    gone = [
        run.pk
        for run in JobRun.objects.filter(status=JobStatus.RUNNING, worker__startswith=f"{host}:")
        if (starting and run.worker == this_worker()) or not _alive(run.worker.rpartition(":")[2])
    ]
    return JobRun.objects.filter(pk__in=gone, status=JobStatus.RUNNING).update(
        status=JobStatus.INTERRUPTED, finished_at=timezone.now(), result=INTERRUPTED
    )


def _alive(pid):
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
