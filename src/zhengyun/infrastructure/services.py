"""Business operations of the infrastructure domain (R-I1–R-I4): pooling hosts, and the
networks and instances departments order within quota.

Each takes the acting user as ``actor``, checks permission through the restriction helper,
runs in one transaction and writes its audit event (design rules 1–3). Work on a
hypervisor happens after the commit, in the worker (``lifecycle``).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core import crud
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import full_clean, service
from zhengyun.infrastructure import (
    addresses,
    balancers,
    edge,
    key_pairs,
    placement,
    quotas,
    segments,
    server_groups,
)
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.connections import driver_for
from zhengyun.infrastructure.drivers.base import DriverError
from zhengyun.infrastructure.models import (
    ComputeProvider,
    Flavour,
    Host,
    Image,
    Instance,
    Network,
    Pool,
    Subnet,
    Zone,
)
from zhengyun.infrastructure.security_groups import join_at_order


@service("infrastructure.create_zone")
def create_zone(*, actor, name, code, region):
    """A site of the region whose pools share power and network."""
    return crud.create(
        actor, Zone, "infrastructure.create_zone", name=name, code=code, region=region
    )


@service("infrastructure.create_pool")
def create_pool(*, actor, zone, name, networks, protection_level, **settings):
    """A pool in ``zone``: the networks it reaches, the highest graded-protection level it
    is certified for, and its overcommit, reservation, policy and dedication."""
    return crud.create(
        actor,
        Pool,
        "infrastructure.create_pool",
        zone=zone,
        name=name,
        networks=list(networks),
        protection_level=protection_level,
        **settings,
    )


@service("infrastructure.create_flavour")
def create_flavour(*, actor, name, vcpus, memory_mb, disk_gb):
    return crud.create(
        actor,
        Flavour,
        "infrastructure.create_flavour",
        name=name,
        vcpus=vcpus,
        memory_mb=memory_mb,
        disk_gb=disk_gb,
    )


@service("infrastructure.create_image")
def create_image(*, actor, name, os_family, version, reference="", min_disk_gb=1):
    return crud.create(
        actor,
        Image,
        "infrastructure.create_image",
        name=name,
        os_family=os_family,
        version=version,
        reference=reference,
        min_disk_gb=min_disk_gb,
    )


@service("infrastructure.register_provider")
def register_provider(*, actor, pool, name, driver, uri):
    """Connect a hypervisor and pool every host it reports (R-I1: existing servers become
    the region's shared capacity); a connection that does not answer changes nothing."""
    provider = crud.create(
        actor,
        ComputeProvider,
        "infrastructure.register_provider",
        pool=pool,
        name=name,
        driver=driver,
        uri=uri,
    )
    try:
        reported = driver_for(provider.driver, provider.uri).hosts()
    except DriverError as exc:
        raise ValidationError({"uri": str(exc)}) from None
    hosts = Host.objects.bulk_create(
        Host(
            provider=provider,
            pool=pool,
            name=info.name,
            vcpus=info.vcpus,
            memory_mb=info.memory_mb,
            disk_gb=info.disk_gb,
            idle_watts=info.idle_watts,
            peak_watts=info.peak_watts,
        )
        for info in reported
    )
    record(
        actor=actor,
        action="infrastructure.pool_hosts",
        obj=provider,
        detail=f"pool={pool.pk} hosts={','.join(h.name for h in hosts)}"[:500],
    )
    return provider


@service("infrastructure.set_quota")
def set_quota(quota, *, actor, changes):
    """Change a department's limits; never below what it already uses."""
    require(actor, "change", quota)
    locked = quotas.locked_quota(quota.department)
    before = snapshot(locked)
    below = []
    for field, value in changes.items():
        if field not in quotas.LIMIT_FIELDS:
            raise ValueError(f"field {field!r} is not a quota limit")
        in_use = getattr(locked, field.replace("max_", "used_"))
        if value < in_use:
            below.append(field)
        setattr(locked, field, value)
    if below:
        raise ValidationError(
            {field: _("Below what the department already uses.") for field in below}
        )
    full_clean(locked)
    locked.save()
    record(
        actor=actor,
        action="infrastructure.set_quota",
        obj=locked,
        changes=diff(before, snapshot(locked)),
    )
    return locked


@service("infrastructure.create_network")
def create_network(*, actor, department, name, reach):
    """A virtual network of ``department`` in one network zone (R-I2), with the lowest free
    segment number."""
    return crud.create(
        actor,
        Network,
        "infrastructure.create_network",
        department=department,
        name=name,
        reach=reach,
        segment=segments.take_lowest_free(),
        created_by=actor,
    )


@service("infrastructure.delete_network")
def delete_network(network, *, actor):
    """Delete a network that has no subnets left; a job then takes it off the hypervisors."""
    from zhengyun.infrastructure.tasks import remove_deleted_networks_task

    crud.delete(actor, network, "infrastructure.delete_network")
    segments.retire(network.segment)
    transaction.on_commit(remove_deleted_networks_task)


@service("infrastructure.create_subnet")
def create_subnet(*, actor, network, name, cidr, gateway=None):
    """A range of addresses in ``network``; it may not overlap any other subnet of the
    department, and its gateway is the first usable address unless one is given."""
    ip_network = addresses.parse_cidr(cidr)
    gateway = addresses.choose_gateway(ip_network, gateway)
    addresses.refuse_overlap(network.department, ip_network)
    subnet = crud.create(
        actor,
        Subnet,
        "infrastructure.create_subnet",
        network=network,
        department=network.department,
        name=name,
        cidr=str(ip_network),
        gateway=str(gateway),
    )
    edge.mark_network(network)  # its egress address now carries this range out too
    return subnet


@service("infrastructure.delete_subnet")
def delete_subnet(subnet, *, actor):
    """Delete a subnet no instance holds an address in."""
    # Locked as address allocation locks it: an address given out meanwhile is seen.
    subnet = Subnet.objects.select_for_update().get(pk=subnet.pk)
    crud.delete(actor, subnet, "infrastructure.delete_subnet")
    edge.mark_network(subnet.network)


@service("infrastructure.create_instance")
def create_instance(
    *,
    actor,
    department,
    name,
    flavour,
    image,
    zone=None,
    networks=(),
    protection_level=2,
    subnet=None,
    server_group=None,
    security_groups=(),
    key_pair=None,
):
    """Order an instance for ``department``: within its quota, placed now by the scheduler
    (the decision kept on the instance) with or apart from the members of ``server_group``,
    given an address of ``subnet`` if one is named, a member of ``security_groups`` (the
    department's default group if none), signed in to with ``key_pair``, built by the
    worker after the commit."""
    from zhengyun.infrastructure.tasks import build_instance_task

    if server_group is not None:
        server_groups.check_for_order(server_group, department)
    if key_pair is not None:
        key_pairs.check_for_order(key_pair, department)
    networks = list(networks)
    if subnet is not None:
        if subnet.department_id != department.pk:
            raise ValidationError({"subnet": _("Choose a subnet of the instance's department.")})
        # The instance must land where its network's zone is reached.
        networks = sorted({*networks, subnet.network.reach})
    instance = Instance(
        department=department,
        name=name,
        flavour=flavour,
        image=image,
        zone=zone,
        networks=networks,
        protection_level=protection_level,
        server_group=server_group,
        key_pair=key_pair,
        vcpus=flavour.vcpus,
        memory_mb=flavour.memory_mb,
        disk_gb=flavour.disk_gb,
        created_by=actor,
    )
    require_some(actor, "add", instance)
    full_clean(instance)
    if image.min_disk_gb > flavour.disk_gb:
        raise ValidationError(
            {
                "flavour": _("The image needs at least %(size)d GB of disk.")
                % {"size": image.min_disk_gb}
            }
        )
    quotas.take(department, quotas.of_instance(instance))
    instance.host, instance.placement = placement.place(instance)
    instance.save()
    require(actor, "add", instance)  # after the insert: a refusal rolls everything back
    if subnet is not None:
        addresses.allocate(instance, subnet)
    join_at_order(instance, security_groups)
    record(
        actor=actor,
        action="infrastructure.create_instance",
        obj=instance,
        changes=diff({}, snapshot(instance)),
    )
    transaction.on_commit(lambda: build_instance_task(instance.pk))
    return instance


@service("infrastructure.delete_instance")
def delete_instance(instance, *, actor):
    """Delete an instance: it leaves every load-balancer pool at once, and the worker
    removes its guest and gives back host and quota."""
    from zhengyun.infrastructure.tasks import destroy_instance_task

    require(actor, "delete", instance)
    instance = Instance.objects.select_for_update().get(pk=instance.pk)
    if instance.status in (InstanceStatus.DELETING, InstanceStatus.DELETED):
        raise Conflict(_("This instance is already being deleted."))
    if instance.status == InstanceStatus.RESIZING:
        # The resize's job holds claims of the new size that a deletion would not give back.
        raise Conflict(_("This instance is being resized; delete it once that is done."))
    # Its load balancers stop sending to it now, before its guest goes.
    balancers.forget_instance(instance, actor=actor)
    before = snapshot(instance)
    instance.status = InstanceStatus.DELETING
    instance.save(update_fields=["status"])
    record(
        actor=actor,
        action="infrastructure.delete_instance",
        obj=instance,
        changes=diff(before, snapshot(instance)),
    )
    transaction.on_commit(lambda: destroy_instance_task(instance.pk))
    return instance
