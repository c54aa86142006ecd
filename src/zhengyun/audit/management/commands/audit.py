"""``zhengyun audit verify``: re-walk the audit trail's hash chain and name the first event
that was changed, deleted, inserted or reordered. Exit status 0 when intact, 1 when not."""

import time

from django.core.management.base import BaseCommand, CommandError

from zhengyun.audit.services import verify_trail


class Command(BaseCommand):
    help = "Verify the audit trail's SM3 hash chain."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        started = time.perf_counter()
        result = verify_trail()
        seconds = time.perf_counter() - started
        if not result.intact:
            raise CommandError(
                f"audit trail broken: {result.first_break} "
                f"(intact up to sequence {result.last_seq})",
                returncode=1,
            )
        rate = result.checked / seconds if seconds else 0
        self.stdout.write(
            f"audit trail intact: {result.checked} events, last sequence {result.last_seq}, "
            f"last hash {result.last_hash} ({seconds:.2f} s, {rate:,.0f} events/s)"
        )
