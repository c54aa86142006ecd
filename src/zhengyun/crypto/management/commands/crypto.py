"""``zhengyun crypto``: manage the keys of personal-data encryption (``crypto.envelope``).

``new-data-key``  encrypt new values under a fresh data key (earlier values stay readable)
``rewrap``        after installing a new master key (the old one listed in
                  ZHENGYUN_PREVIOUS_MASTER_KEY_FILES), wrap every data key with the new one
``status``        the current master key and how many data keys each master key wraps
"""

from collections import Counter

from django.core.management.base import BaseCommand

from zhengyun.audit.services import record
from zhengyun.crypto import envelope
from zhengyun.crypto.models import DataKey


class Command(BaseCommand):
    help = "Manage the keys that encrypt personal data."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["new-data-key", "rewrap", "status"])

    def handle(self, *args, action, **options):
        if action == "new-data-key":
            key_id, _ = envelope.create_data_key()
            self.stdout.write(f"data key {key_id} is now used for new values")
        elif action == "rewrap":
            moved = envelope.rewrap()
            current, _ = envelope.master_keys()
            record(
                actor=None,
                action="crypto.rewrap",
                detail=f"master_key={current.key_id} moved={moved}",
            )
            self.stdout.write(f"{moved} data keys now wrapped by master key {current.key_id}")
        else:
            current, _ = envelope.master_keys()
            self.stdout.write(f"current master key {current.key_id}")
            counts = Counter(DataKey.objects.values_list("master_key_id", flat=True))
            for master, count in sorted(counts.items()):
                self.stdout.write(f"  {count} data keys wrapped by {master}")
