"""Operators change and retire the pieces of the machine room — zones, pools, flavours and
images — without breaking what already runs on them, and state the power hosts draw
(R-I1, R-I3, R-I4).

A pool's settings are the promises its instances were placed under, so a change is refused
when it would break one: overcommit or reservations leaving a host claimed past what it may
hold, a certification below the graded-protection level of an instance in it, a network an
instance needs taken away, or a dedication to one department while others' instances run
there. Every refusal names what stands in the way; placement reads the new settings at its
next decision. Anything still in use, or once used by an instance, is not deleted (409 naming its
dependents). Hosts leave a pool by maintenance, not by deletion.

A host's power model — idle and peak watts, or a measured 11-point curve — is what
consolidation weighs its savings by; the host validates it (never negative, peak at least
idle, a curve that never falls).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require
from zhengyun.core import crud
from zhengyun.core.services import full_clean, service
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.models import Host, Instance, Pool
from zhengyun.infrastructure.scheduler.model import usable

POOL_FIELDS = frozenset(
    {
        "name",
        "cpu_ratio",
        "ram_ratio",
        "reserved_vcpus",
        "reserved_memory_mb",
        "networks",
        "protection_level",
        "dedicated_to",
        "policy",
    }
)
SHOWN = 5  # names listed in a refusal


def _only(obj, changes, allowed):
    """``changes`` restricted to ``allowed`` fields; a change to any other is refused (the
    same value, as a full PUT sends it, is not a change)."""
    fixed = {
        name: _("This cannot be changed.")
        for name, value in changes.items()
        if name not in allowed and getattr(obj, name) != value
    }
    if fixed:
        raise ValidationError(fixed)
    return {name: value for name, value in changes.items() if name in allowed}


@service("infrastructure.update_zone")
def update_zone(zone, *, actor, changes):
    require(actor, "change", zone)
    changes = _only(zone, changes, {"name"})
    return crud.update(actor, zone, "infrastructure.update_zone", changes, {"name"})


@service("infrastructure.delete_zone")
def delete_zone(zone, *, actor):
    crud.delete(actor, zone, "infrastructure.delete_zone")


@service("infrastructure.update_pool")
def update_pool(pool, *, actor, changes):
    """Change a pool's settings, unless that breaks what its instances were placed under."""
    require(actor, "change", pool)  # before anything names the instances in it
    locked = Pool.objects.select_for_update().get(pk=pool.pk)
    changes = _only(locked, changes, POOL_FIELDS)
    proposed = Pool(**{f.attname: getattr(locked, f.attname) for f in Pool._meta.concrete_fields})
    proposed._state.adding = False  # the same row: its own name and id are no clash
    for name, value in changes.items():
        setattr(proposed, name, value)
    full_clean(proposed)  # well-formed before the promises are weighed
    errors = _broken_promises(locked, proposed)
    if errors:
        raise ValidationError(errors)
    return crud.update(actor, locked, "infrastructure.update_pool", changes, POOL_FIELDS)


def _broken_promises(pool, proposed):
    errors = {}
    over = [
        host.name
        for host in Host.objects.filter(pool=pool)
        if host.used_vcpus > usable(host.vcpus, proposed.cpu_ratio, proposed.reserved_vcpus)
        or host.used_memory_mb
        > usable(host.memory_mb, proposed.ram_ratio, proposed.reserved_memory_mb)
    ]
    if over:
        errors["cpu_ratio"] = _("Hosts would hold more than these settings allow: %(hosts)s.") % {
            "hosts": _names(over)
        }
    living = Instance.objects.filter(host__pool=pool).exclude(status=InstanceStatus.DELETED)
    above = [i.name for i in living if i.protection_level > proposed.protection_level]
    if above:
        errors["protection_level"] = _(
            "Instances of a higher graded-protection level run here: %(instances)s."
        ) % {"instances": _names(above)}
    reached = set(proposed.networks)
    cut_off = [i.name for i in living if not set(i.networks) <= reached]
    if cut_off:
        errors["networks"] = _("Instances here need the networks taken away: %(instances)s.") % {
            "instances": _names(cut_off)
        }
    if proposed.dedicated_to_id:
        others = [i.name for i in living if i.department_id != proposed.dedicated_to_id]
        if others:
            errors["dedicated_to"] = _(
                "Instances of other departments run here: %(instances)s."
            ) % {"instances": _names(others)}
    return errors


def _names(names):
    shown = ", ".join(sorted(names)[:SHOWN])
    return shown if len(names) <= SHOWN else f"{shown} … (+{len(names) - SHOWN})"


@service("infrastructure.set_host_power_model")
def set_host_power_model(host, *, actor, idle_watts, peak_watts, power_curve):
    """Give ``host`` its idle and peak watts and, where measured, an 11-point curve (an
    empty one: the linear model of idle and peak is used)."""
    require(actor, "change", host)  # before the row is locked
    return crud.update(
        actor,
        Host.objects.select_for_update().get(pk=host.pk),
        "infrastructure.set_host_power_model",
        {"idle_watts": idle_watts, "peak_watts": peak_watts, "power_curve": list(power_curve)},
        allowed={"idle_watts", "peak_watts", "power_curve"},
    )


@service("infrastructure.delete_pool")
def delete_pool(pool, *, actor):
    crud.delete(actor, pool, "infrastructure.delete_pool")


@service("infrastructure.delete_flavour")
def delete_flavour(flavour, *, actor):
    crud.delete(actor, flavour, "infrastructure.delete_flavour")


@service("infrastructure.delete_image")
def delete_image(image, *, actor):
    crud.delete(actor, image, "infrastructure.delete_image")
