"""``zhengyun run``: the web server and the worker together, stopped together.

Ctrl-C or SIGTERM stops both cleanly (the worker finishes its running task); if either
exits on its own the other is stopped too and the command fails.
"""

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

GRACE_SECONDS = 15


class Command(BaseCommand):
    help = "Run the web server and the background worker until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args, host, port, **options):
        from zhengyun.demo.loader import sign_in_lines

        cli = [sys.executable, "-m", "zhengyun.cli"]
        children = {
            "web": subprocess.Popen([*cli, "serve", "--host", host, "--port", str(port)]),
            "worker": subprocess.Popen([*cli, "worker"]),
        }
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

        self.stdout.write(f"\nZhengyun console: http://{host}:{port}/\n")
        for line in sign_in_lines():
            self.stdout.write(line)
        self.stdout.write("\nPress Ctrl-C to stop.\n")

        failed = None
        while not stopping and failed is None:
            for name, child in children.items():
                if child.poll() is not None:
                    failed = name
            time.sleep(0.2)

        # Huey finishes running tasks on SIGINT; waitress stops on SIGTERM.
        for name, child in children.items():
            if child.poll() is None:
                child.send_signal(signal.SIGINT if name == "worker" else signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if failed:
            self.stderr.write(f"the {failed} process exited; stopped everything")
            sys.exit(1)
        self.stdout.write("stopped")
