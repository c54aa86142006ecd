"""Recording job runs. Called by the ``tracked`` wrapper in the worker, never by users."""

from django.utils import timezone

from zhengyun.jobs.models import JobRun, JobStatus


def start_run(task, request_id=""):
    """Record that ``task`` has started."""
    return JobRun.objects.create(task=task, request_id=request_id, status=JobStatus.RUNNING)


def finish_run(run, *, failed=False, result=""):
    """Record how the run ended."""
    run.status = JobStatus.FAILED if failed else JobStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.result = str(result)[:500]
    run.save(update_fields=["status", "finished_at", "result"])
    return run
