"""The record of background job runs, kept in the database so every process sees them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedQuerySet, Scoping

__all__ = ["JobRun", "JobStatus"]


class JobStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    INTERRUPTED = "interrupted", _("Interrupted (its worker stopped)")


class JobRun(models.Model):
    """One execution of a background task: when, how it ended, and what it returned."""

    task = models.CharField(_("task"), max_length=100, db_index=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=11, choices=JobStatus.choices)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=500, blank=True)
    # "host:pid" of the worker process running it: a run whose process is gone was cut
    # short, and says so rather than "running" for ever.
    worker = models.CharField(_("worker"), max_length=120, blank=True)

    objects = RestrictedQuerySet.as_manager()
    # Platform-level records: only people whose role covers the whole platform see them.
    scoping = Scoping(region_codes=())

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")

    def __str__(self):
        return f"{self.task} {self.started_at:%Y-%m-%d %H:%M:%S} {self.status}"
