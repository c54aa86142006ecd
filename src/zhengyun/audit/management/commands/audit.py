"""``zhengyun audit verify``: re-walk the audit trail's SM3 hash chain and check every signed
checkpoint; name the first event that was changed, deleted, inserted or reordered, and any
checkpoint whose SM2 signature fails. Exit status 0 when intact, 1 when not.

``zhengyun audit checkpoint`` signs the chain head now; ``zhengyun audit public-key`` prints
the public half of the signing key, for auditors and for OpenSSL; ``zhengyun audit purge
--before YYYY-MM-DD`` removes events past the retention period (ZHENGYUN_AUDIT_RETENTION_DAYS,
at least 180) up to the last signed checkpoint before that date, after archiving them;
``zhengyun audit verify-archive FILE… [--public-key PEM]`` re-verifies such archives on
their own, without the database, with the platform's public key.

Except ``public-key`` and ``verify-archive``, each is done by a person signed in with
``--as USERNAME`` whose roles allow it — an audit administrator's work (三员,
``accounts.cli``): verify needs ``view`` on audit events, checkpoint ``add`` on audit
checkpoints, purge ``add`` on audit purges.
"""

import datetime
import os
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from zhengyun.accounts.cli import OperatorCommand
from zhengyun.audit import archive as audit_archive
from zhengyun.audit import keys
from zhengyun.audit.models import AuditCheckpoint, AuditEvent, AuditPurge
from zhengyun.audit.services import purge_trail, record, sign_checkpoint, verify_trail
from zhengyun.core.services import ensure_may
from zhengyun.crypto import gm


class Command(OperatorCommand):
    help = "Verify the audit trail, sign a checkpoint, print the signing key, or purge."

    def add_arguments(self, parser):
        parser.add_argument(
            "action", choices=["verify", "checkpoint", "public-key", "purge", "verify-archive"]
        )
        parser.add_argument(
            "archives", nargs="*", type=Path, help="verify-archive: the archive files"
        )
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
        self.add_operator_arguments(parser)

    def handle(self, *args, action, public_key, workers, before, archives, **options):
        if action == "public-key":  # public: anyone may check the signatures with it
            self.stdout.write(keys.public_key_pem().decode(), ending="")
        elif action == "verify-archive":  # reads a file only: whoever holds it may check it
            self.verify_archives(archives, public_key)
        elif action == "purge":
            self.purge(before, options)
        elif action == "checkpoint":
            self.checkpoint(options)
        else:
            key = gm.load_public_key(public_key.read_bytes()) if public_key else None
            person = self.operator(options)
            ensure_may(AuditEvent, "view", actor=person)
            self.verify(person, key, max(1, workers))

    def checkpoint(self, options):
        person = self.operator(options)
        ensure_may(AuditCheckpoint, "add", actor=person)
        with transaction.atomic():
            checkpoint = sign_checkpoint(every=1)
            if checkpoint:
                record(
                    actor=person,
                    action="audit.sign_checkpoint",
                    obj=checkpoint,
                    detail=f"seq={checkpoint.seq}",
                )
        self.stdout.write(
            f"signed sequence {checkpoint.seq}" if checkpoint else "nothing new to sign"
        )

    def purge(self, before, options):
        if before is None:
            raise CommandError("purge needs --before YYYY-MM-DD")
        moment = timezone.make_aware(datetime.datetime.combine(before, datetime.time()))
        person = self.operator(options)
        ensure_may(AuditPurge, "add", actor=person)
        try:
            purge = purge_trail(moment, actor=person)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if purge is None:
            self.stdout.write("nothing to purge: no signed checkpoint before that date")
        else:
            self.stdout.write(
                f"purged {purge.events} events through sequence {purge.through_seq}, "
                f"proven by the signed checkpoint with hash {purge.through_hash}; "
                f"archived to {purge.archive} (SM3 {purge.archive_sm3})"
            )

    def verify_archives(self, paths, public_key):
        """Each file on its own, then whether they follow on one from the next (pass every
        archive there is to check that none is missing)."""
        if not paths:
            raise CommandError("verify-archive needs the archive files")
        key = self.trusted_key(public_key)
        self.stdout.write(f"checking with public key {keys.fingerprint(key)}")
        checks, broken = [], []
        for path in paths:
            try:
                check = audit_archive.verify(path, key)
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"cannot read {path}: {exc}") from None
            self.stdout.write(f"{path}: {check.events} events, SM3 {check.digest}")
            if check.first_break is not None:
                broken.append(f"{path} BROKEN at sequence {check.first_break}")
            elif not check.signed:
                broken.append(f"{path} BROKEN: the checkpoint's signature does not verify")
            checks.append(check)
        broken += [f"events from sequence {seq} are in none of the files" for seq in
                   audit_archive.gaps(checks)]  # fmt: skip
        first = min(check.from_seq for check in checks)
        if first != 1:
            self.stdout.write(f"the files begin at sequence {first}; earlier ones not given")
        if broken:
            raise CommandError("; ".join(broken))
        self.stdout.write("archive intact: the events chain to the signed checkpoints")

    def trusted_key(self, public_key):
        """The key given, or the platform's own when this is a machine of the platform —
        never one read from the archive, which whoever rewrote it could have replaced."""
        path = public_key or keys.key_path()
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                f"cannot read the public key ({exc}); give --public-key with the key "
                "'zhengyun audit public-key' prints on the platform"
            ) from None
        key = gm.load_public_key(pem) if public_key else gm.load_private_key(pem).public_key()
        return key

    def verify(self, person, public_key, workers):
        started = time.perf_counter()
        result = verify_trail(public_key, workers=workers)
        seconds = time.perf_counter() - started
        record(
            actor=person,
            action="audit.verify_trail",
            detail=f"chain={'intact' if result.intact else 'BROKEN'}; "
            f"events={result.checked}; last_seq={result.last_seq}",
        )
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
