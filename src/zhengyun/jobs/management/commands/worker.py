"""``zhengyun worker``: run the Huey consumer (jobs and periodic tasks) and, beside it, the
audit sealer that chains newly recorded events (``audit.sealer``). On start it marks the
runs a killed worker of this host left ``running`` as ``interrupted``."""

from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey

from zhengyun.audit.sealer import Sealer
from zhengyun.jobs.services import sweep_interrupted


class Command(RunHuey):
    help = "Run the background worker: queued jobs, periodic tasks and audit sealing."

    def handle(self, *args, **options):
        sweep_interrupted(starting=True)  # runs an earlier worker on this host was killed in
        sealer = Sealer()
        sealer.start()
        try:
            super().handle(*args, **options)
        finally:
            sealer.stop()
