"""``zhengyun serve``: the web console and API on waitress (a production WSGI server), in one
process or, with ``--workers``, in several sharing one socket (``core.prefork``)."""

import gc
import os
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from waitress import serve

from zhengyun.core import prefork
from zhengyun.gateway import calljournal


def _stop(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve the console and API over HTTP."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("ZHENGYUN_WEB_WORKERS", "1")),
            help="Web processes sharing the port; more than one needs REDIS_URL.",
        )
        parser.add_argument(
            "--trusted-proxy",
            default=os.environ.get("ZHENGYUN_TRUSTED_PROXY", ""),
            help="Address of the TLS gateway whose X-Forwarded-* headers are believed.",
        )

    def handle(self, *args, host, port, threads, workers, trusted_proxy, **options):
        from zhengyun.wsgi import application

        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        if workers > 1 and settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
            # Rate limits, quotas and throttles are counted in the cache: in each process's
            # own memory, every worker would allow the whole limit again.
            raise CommandError("Several web workers share their counts in Redis: set REDIS_URL.")

        # Behind the region's TLS gateway, believe its X-Forwarded-* headers and no one else's.
        waitress_options = {
            "threads": threads,
            "ident": "zhengyun",
            "clear_untrusted_proxy_headers": True,
        }
        if trusted_proxy:
            waitress_options["trusted_proxy"] = trusted_proxy
            waitress_options["trusted_proxy_headers"] = "x-forwarded-proto x-forwarded-for"

        if workers == 1:
            self._run(application, host=host, port=port, **waitress_options)
            return
        sock = prefork.listening_socket(host, port)
        # Workers must not share the parent's database connections (none should be open).
        connections.close_all()
        self._freeze()
        status = prefork.supervise(
            lambda: self._run(application, quiet=True, sockets=[sock], **waitress_options),
            workers,
            self.stderr.write,
        )
        if status:
            raise CommandError("A web worker could not start.", returncode=status)
        self.stdout.write("web server stopped")

    def _run(self, application, quiet=False, **waitress_options):
        self._freeze()
        signal.signal(signal.SIGTERM, _stop)
        calljournal.start()
        try:
            serve(application, **waitress_options)
        except KeyboardInterrupt:
            if not quiet:
                self.stdout.write("web server stopped")
        finally:
            # A second signal (Ctrl-C reaches the whole group, then the parent's SIGTERM)
            # must not cut the journal's last pass short.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            calljournal.stop()

    @staticmethod
    def _freeze():
        # Everything loaded so far lives for the whole process: keep it out of the garbage
        # collector's full passes, which otherwise add tens of ms to some requests. Before
        # forking it also spares the workers copying those pages when the collector walks them.
        gc.freeze()
