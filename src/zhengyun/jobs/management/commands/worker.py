"""``zhengyun worker``: run the Huey consumer (jobs and periodic tasks) and, beside it, the
audit sealer that chains newly recorded events (``audit.sealer``)."""

from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey

from zhengyun.audit.sealer import Sealer


class Command(RunHuey):
    help = "Run the background worker: queued jobs, periodic tasks and audit sealing."

    def handle(self, *args, **options):
        sealer = Sealer()
        sealer.start()
        try:
            super().handle(*args, **options)
        finally:
            sealer.stop()
