import contextlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "zhengyun.jobs"
    label = "jobs"
    verbose_name = _("Jobs")

    def ready(self):
        from prometheus_client import REGISTRY

        from zhengyun.jobs.metrics import JobRunCollector

        # ready() can run twice under some test runners; the second registration is refused.
        with contextlib.suppress(ValueError):
            REGISTRY.register(JobRunCollector())
