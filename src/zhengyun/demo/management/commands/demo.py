"""``zhengyun demo [--scale N]``: load the demo province (idempotent)."""

import time

from django.core.management.base import BaseCommand, CommandError

from zhengyun.core import context
from zhengyun.demo.loader import load_demo, sign_in_lines


class Command(BaseCommand):
    help = "Load the demo province 示范省 (again: completes it, never duplicates)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Copies of the prefecture/county structure (1–2000).",
        )

    def handle(self, *args, scale, **options):
        if not 1 <= scale <= 2000:
            raise CommandError("--scale must be between 1 and 2000")
        started = time.monotonic()
        ctx = context.RequestContext(request_id=context.new_request_id(), channel="cli")
        with context.bound(ctx):
            created = load_demo(scale, out=self.stdout.write)
        self.stdout.write(
            "demo region ready in {:.1f} s: created {regions} regions, {departments} "
            "departments, {users} users, {roles} role assignments".format(
                time.monotonic() - started, **created
            )
        )
        for line in sign_in_lines():
            self.stdout.write(line)
