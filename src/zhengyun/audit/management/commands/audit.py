"""``zhengyun audit verify``: re-walk the audit trail's SM3 hash chain and check every signed
checkpoint; name the first event that was changed, deleted, inserted or reordered, and any
checkpoint whose SM2 signature fails. Exit status 0 when intact, 1 when not.

``zhengyun audit checkpoint`` signs the chain head now; ``zhengyun audit public-key`` prints
the public half of the signing key, for auditors and for OpenSSL; ``zhengyun audit purge
--before YYYY-MM-DD`` removes events past the retention period (ZHENGYUN_AUDIT_RETENTION_DAYS,
at least 180) up to the last signed checkpoint before that date.
"""

import datetime
import os
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zhengyun.audit import keys
from zhengyun.audit.services import purge_trail, sign_checkpoint, verify_trail
from zhengyun.crypto import gm


class Command(BaseCommand):
    help = "Verify the audit trail, sign a checkpoint, print the signing key, or purge."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "checkpoint", "public-key", "purge"])
        parser.add_argument(
            "--before",
            type=datetime.date.fromisoformat,
            help="purge: remove events older than this date (YYYY-MM-DD)",
        )
        parser.add_argument(
            "--public-key", type=Path, help="verify checkpoints with this PEM public key instead"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="processes that walk a long trail in stretches (default: one per processor)",
        )

    def handle(self, *args, action, public_key, workers, before, **options):
        if action == "purge":
            self.purge(before)
        elif action == "public-key":
            self.stdout.write(keys.public_key_pem().decode(), ending="")
        elif action == "checkpoint":
            checkpoint = sign_checkpoint(every=1)
            self.stdout.write(
                f"signed sequence {checkpoint.seq}" if checkpoint else "nothing new to sign"
            )
        else:
            key = gm.load_public_key(public_key.read_bytes()) if public_key else None
            self.verify(key, max(1, workers))

    def purge(self, before):
        if before is None:
            raise CommandError("purge needs --before YYYY-MM-DD")
        moment = timezone.make_aware(datetime.datetime.combine(before, datetime.time()))
        try:
            purge = purge_trail(moment)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if purge is None:
            self.stdout.write("nothing to purge: no signed checkpoint before that date")
        else:
            self.stdout.write(
                f"purged {purge.events} events through sequence {purge.through_seq}, "
                f"proven by the signed checkpoint with hash {purge.through_hash}"
            )

    def verify(self, public_key, workers):
        started = time.perf_counter()
        result = verify_trail(public_key, workers=workers)
        seconds = time.perf_counter() - started
        problems = []
        if result.first_break:
            problems.append(str(result.first_break))
        if result.bad_signature:
            problems.append(
                f"the checkpoint at sequence {result.bad_signature} has an invalid signature"
            )
        if problems:
            raise CommandError(
                f"audit trail broken: {'; '.join(problems)} "
                f"(intact up to sequence {result.last_seq})",
                returncode=1,
            )
        rate = result.checked / seconds if seconds else 0
        self.stdout.write(
            f"audit trail intact: {result.checked} events, last sequence {result.last_seq}, "
            f"last hash {result.last_hash} ({seconds:.2f} s, {rate:,.0f} events/s)"
        )
