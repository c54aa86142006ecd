"""Limits a region sets on what all the departments below it hold together (R-I3).

Setting a limit locks the region's quota row — the row every order of a department below
it locks after its own department's — and refuses a limit below what those departments
already hold, so a limit never starts out broken. A new limit has no row to lock yet: it
locks the departments' own quota rows instead, waiting for the orders in flight below it.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core import crud
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import full_clean, service
from zhengyun.infrastructure import quotas
from zhengyun.infrastructure.models import RegionQuota
from zhengyun.organizations.models import Department


@service("infrastructure.create_region_quota")
def create_region_quota(*, actor, region, **limits):
    """Limit the region's departments together; empty limits do not bind."""
    require_some(actor, "add", RegionQuota(region=region))
    if RegionQuota.objects.filter(region=region).exists():
        raise Conflict(_("%(region)s already has a quota; change it instead.") % {"region": region})
    # Orders lock their department's row before they look for region limits: holding every
    # row below waits for the orders in flight, whose holdings the check below must count.
    for department in Department.objects.filter(region__code__startswith=region.prefix).order_by(
        "pk"
    ):
        quotas.locked_quota(department)
    quota = RegionQuota(region=region)
    return _apply(actor, quota, limits, "infrastructure.create_region_quota", action="add")


@service("infrastructure.set_region_quota")
def set_region_quota(quota, *, actor, changes):
    """Change a region's limits; never below what its departments already hold."""
    require(actor, "change", quota)
    limits = dict(changes)
    if limits.pop("region", quota.region) != quota.region:
        raise ValidationError({"region": _("A quota stays with its region.")})
    locked = RegionQuota.objects.select_for_update().select_related("region").get(pk=quota.pk)
    return _apply(actor, locked, limits, "infrastructure.set_region_quota", action="change")


@service("infrastructure.delete_region_quota")
def delete_region_quota(quota, *, actor):
    """Lift every limit of the region (its departments' own quotas still bind)."""
    crud.delete(actor, quota, "infrastructure.delete_region_quota")


def _apply(actor, quota, limits, audit_action, *, action):
    before = snapshot(quota) if quota.pk else {}
    for field, value in limits.items():
        if field not in quotas.LIMIT_FIELDS:
            raise ValueError(f"field {field!r} is not a quota limit")
        setattr(quota, field, value)
    in_use = quotas.region_in_use(quota.region)
    below = {
        field: _("Below what the region's departments already hold (%(in_use)s).")
        % {"in_use": in_use[field.removeprefix("max_")]}
        for field, value in limits.items()
        if value is not None and value < in_use[field.removeprefix("max_")]
    }
    if below:
        raise ValidationError(below)
    full_clean(quota)
    quota.save()
    require(actor, action, quota)
    record(actor=actor, action=audit_action, obj=quota, changes=diff(before, snapshot(quota)))
    return quota
