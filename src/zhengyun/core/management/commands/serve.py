"""``zhengyun serve``: the web console and API on waitress (a production WSGI server)."""

import gc
import os
import signal

from django.core.management.base import BaseCommand
from waitress import serve


def _stop(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve the console and API over HTTP."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--trusted-proxy",
            default=os.environ.get("ZHENGYUN_TRUSTED_PROXY", ""),
            help="Address of the TLS gateway whose X-Forwarded-* headers are believed.",
        )

    def handle(self, *args, host, port, threads, trusted_proxy, **options):
        from zhengyun.wsgi import application

        # Everything loaded so far lives for the whole process: keep it out of the garbage
        # collector's full passes, which otherwise add tens of ms to some requests.
        gc.freeze()

        signal.signal(signal.SIGTERM, _stop)
        # Behind the region's TLS gateway, believe its X-Forwarded-* headers and no one else's.
        proxy = (
            {
                "trusted_proxy": trusted_proxy,
                "trusted_proxy_headers": "x-forwarded-proto x-forwarded-for",
            }
            if trusted_proxy
            else {}
        )
        try:
            serve(
                application,
                host=host,
                port=port,
                threads=threads,
                ident="zhengyun",
                clear_untrusted_proxy_headers=True,
                **proxy,
            )
        except KeyboardInterrupt:
            self.stdout.write("web server stopped")
