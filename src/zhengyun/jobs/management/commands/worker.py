"""``zhengyun worker``: run the Huey consumer (jobs and periodic tasks)."""

from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey


class Command(RunHuey):
    help = "Run the background worker: queued jobs and periodic tasks."
