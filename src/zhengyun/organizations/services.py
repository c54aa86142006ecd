"""Business operations on regions, departments, service providers and the operator.

Each takes the acting user as ``actor``, checks permission through the restriction helper,
runs in one transaction and writes its audit event (design rules 1–3).
"""

from zhengyun.accounts.access import require
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core import crud
from zhengyun.core.services import full_clean, service
from zhengyun.organizations.models import Department, Operator, Region, ServiceProvider

REGION_FIELDS = {"name", "code", "level", "parent"}
DEPARTMENT_FIELDS = {
    "name",
    "short_name",
    "uscc",
    "region",
    "kind",
    "parent",
    "vertical_line",
    "is_active",
}
PROVIDER_FIELDS = {"name", "uscc", "kind", "region", "contact", "is_active"}


@service("organizations.create_region")
def create_region(*, actor, code, name, level, parent=None):
    """Add a region under ``parent``; its code must sit under the parent's prefix."""
    return crud.create(
        actor,
        Region,
        "organizations.create_region",
        code=code,
        name=name,
        level=level,
        parent=parent,
    )


@service("organizations.update_region")
def update_region(region, *, actor, changes):
    return crud.update(actor, region, "organizations.update_region", changes, REGION_FIELDS)


@service("organizations.delete_region")
def delete_region(region, *, actor):
    """Delete a region with no children, departments or providers (409 otherwise)."""
    return crud.delete(actor, region, "organizations.delete_region")


@service("organizations.create_department")
def create_department(
    *,
    actor,
    name,
    uscc,
    region,
    kind,
    short_name="",
    parent=None,
    vertical_line=None,
    is_active=True,
):
    """Register a government department (政务部门) in ``region``."""
    return crud.create(
        actor,
        Department,
        "organizations.create_department",
        name=name,
        uscc=uscc,
        region=region,
        kind=kind,
        short_name=short_name,
        parent=parent,
        vertical_line=vertical_line,
        is_active=is_active,
    )


@service("organizations.update_department")
def update_department(department, *, actor, changes):
    return crud.update(
        actor, department, "organizations.update_department", changes, DEPARTMENT_FIELDS
    )


@service("organizations.delete_department")
def delete_department(department, *, actor):
    """Delete a department that has no users, sub-departments or other dependents."""
    return crud.delete(actor, department, "organizations.delete_department")


@service("organizations.create_service_provider")
def create_service_provider(*, actor, name, uscc, kind, region, contact="", is_active=True):
    """Register a service-provider organisation (R-E1)."""
    return crud.create(
        actor,
        ServiceProvider,
        "organizations.create_service_provider",
        name=name,
        uscc=uscc,
        kind=kind,
        region=region,
        contact=contact,
        is_active=is_active,
    )


@service("organizations.update_service_provider")
def update_service_provider(provider, *, actor, changes):
    return crud.update(
        actor, provider, "organizations.update_service_provider", changes, PROVIDER_FIELDS
    )


@service("organizations.delete_service_provider")
def delete_service_provider(provider, *, actor):
    return crud.delete(actor, provider, "organizations.delete_service_provider")


@service("organizations.configure_operator")
def configure_operator(*, actor, name, region, provider=None):
    """Say which region this platform instance serves and who runs it (R-N1).

    Only someone who may change that region itself (a platform-wide operator) may do so.
    """
    require(actor, "change", region)
    operator = Operator.objects.filter(pk=1).first()
    before = snapshot(operator) if operator else {}
    operator = operator or Operator(pk=1)
    operator.name, operator.region, operator.provider = name, region, provider
    full_clean(operator)
    operator.save()
    record(
        actor=actor,
        action="organizations.configure_operator",
        obj=operator,
        changes=diff(before, snapshot(operator)),
    )
    return operator


def current_operator():
    """The configured operator row, or None before the platform is set up."""
    return Operator.objects.select_related("region", "provider").filter(pk=1).first()
