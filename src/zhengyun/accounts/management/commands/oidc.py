"""``zhengyun oidc``: the keys that sign ID tokens for the region's applications
(``accounts.oidc_keys``).

``keys``              every key of the ring: when it signs, whether it is published or withdrawn
``rotate``            a new key, published now, signing after an hour; the old one stays
                      published for the overlap
``rotate --at-once``  after a suspected compromise: the new key signs now and every earlier
                      key is withdrawn (its tokens stop verifying)

Done by a person signed in with ``--as USERNAME`` whose roles allow it — the security
administrator's work (三员, ``accounts.cli``): keys needs ``view``, rotate ``add``, and
``--at-once`` also ``change``.
"""

from django.core.management.base import CommandError
from django.utils import timezone

from zhengyun.accounts import oidc_keys, services
from zhengyun.accounts.cli import OperatorCommand


class Command(OperatorCommand):
    help = "Rotate and list the keys that sign ID tokens."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["keys", "rotate"])
        parser.add_argument(
            "--at-once",
            action="store_true",
            help="the new key signs now and every earlier key is withdrawn",
        )
        self.add_operator_arguments(parser)

    def handle(self, *args, action, at_once, **options):
        if at_once and action != "rotate":
            raise CommandError("--at-once goes with rotate")
        person = self.operator(options)
        if action == "rotate":
            row = services.rotate_oidc_key(actor=person, at_once=at_once)
            self.stdout.write(f"key {row.kid} signs from {row.signs_from.isoformat()}")
            return
        now = timezone.now()
        ring = oidc_keys.current()
        published = {key.kid for key in ring.published(now)}
        signing = ring.signing(now).kid
        for row in services.oidc_signing_keys(actor=person):
            if row.withdrawn_at:
                state = f"withdrawn {row.withdrawn_at.isoformat()}"
            elif row.kid == signing:
                state = "signing"
            elif row.signs_from > now:
                state = "published, not yet signing"
            else:
                state = "published, replaced" if row.kid in published else "expired"
            self.stdout.write(f"{row.kid}  signs from {row.signs_from.isoformat()}  {state}")
