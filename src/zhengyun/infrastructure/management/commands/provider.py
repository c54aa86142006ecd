"""``zhengyun provider register|list``: connect a hypervisor to a pool (R-I1).

Registering makes the platform connect to the address given and pools every host the driver
reports, so it is a command of whoever runs the machine room — a platform operator or the
system administrator signed in with ``--as USERNAME`` — rather than an API call anyone with
a token could aim at an address of their choosing. The act is audited under that person.

    zhengyun provider register --pool 3 --name kvm-a --driver libvirt \\
        --uri 'qemu+ssh://zhengyun@10.0.8.11/system' --as operator
    zhengyun provider list --as operator
"""

from importlib.metadata import entry_points

from django.core.exceptions import ValidationError
from django.core.management import CommandError

from zhengyun.accounts.cli import OperatorCommand
from zhengyun.core.services import ensure_may_add
from zhengyun.infrastructure import services
from zhengyun.infrastructure.drivers.base import ENTRY_POINT_GROUP
from zhengyun.infrastructure.models import ComputeProvider, Pool


class Command(OperatorCommand):
    help = "Register a compute provider (a hypervisor connection) into a pool, or list them."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["register", "list"])
        parser.add_argument("--pool", type=int, help="the pool's id (register)")
        parser.add_argument("--name", help="a name for the connection, unique (register)")
        drivers = sorted(point.name for point in entry_points(group=ENTRY_POINT_GROUP))
        parser.add_argument("--driver", choices=drivers, help="the driver (register)")
        parser.add_argument("--uri", help="the driver's connection address (register)")
        self.add_operator_arguments(parser)

    def handle(self, *args, action, **options):
        person = self.operator(options)
        if action == "list":
            for provider in ComputeProvider.objects.restrict(person, "view").select_related("pool"):
                hosts = provider.hosts.count()
                self.stdout.write(
                    f"{provider.pk}\t{provider.name}\t{provider.driver}\t{provider.pool}\t{hosts}"
                )
            return
        ensure_may_add(ComputeProvider, actor=person)  # refused (77, audited) before anything
        missing = [f"--{name}" for name in ("pool", "name", "driver", "uri") if not options[name]]
        if missing:
            raise CommandError(f"register needs {', '.join(missing)}")
        pool = Pool.objects.restrict(person, "view").filter(pk=options["pool"]).first()
        if pool is None:
            raise CommandError(f"no pool {options['pool']} you may see")
        try:
            provider = services.register_provider(
                actor=person,
                pool=pool,
                name=options["name"],
                driver=options["driver"],
                uri=options["uri"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"provider {provider.pk} registered; {provider.hosts.count()} hosts joined {pool}"
        )
