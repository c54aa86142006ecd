"""``zhengyun crypto``: manage the keys of personal-data encryption (``crypto.envelope``).

``new-data-key``  encrypt new values under a fresh data key (earlier values stay readable)
``rewrap``        after installing a new master key (the old one listed in
                  ZHENGYUN_PREVIOUS_MASTER_KEY_FILES), wrap every data key with the new one
``status``        the current master key and how many data keys each master key wraps

Each is done by a person signed in with ``--as USERNAME`` whose roles allow it on data keys
— the security administrator's work (三员, ``accounts.cli``): status needs ``view``,
new-data-key ``add``, rewrap ``change``.
"""

from zhengyun.accounts.cli import OperatorCommand
from zhengyun.crypto import services


class Command(OperatorCommand):
    help = "Manage the keys that encrypt personal data."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["new-data-key", "rewrap", "status"])
        self.add_operator_arguments(parser)

    def handle(self, *args, action, **options):
        person = self.operator(options)
        if action == "new-data-key":
            key_id = services.new_data_key(actor=person)
            self.stdout.write(f"data key {key_id} is now used for new values")
        elif action == "rewrap":
            master, moved = services.rewrap_data_keys(actor=person)
            self.stdout.write(f"{moved} data keys now wrapped by master key {master}")
        else:
            master, counts = services.key_status(actor=person)
            self.stdout.write(f"current master key {master}")
            for wrapped_by, count in counts.items():
                self.stdout.write(f"  {count} data keys wrapped by {wrapped_by}")
