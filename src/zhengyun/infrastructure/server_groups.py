"""A department's server groups (R-I4): made and deleted here, joined by an instance when it
is ordered (``services.create_instance``). A group is one department's, and every order
locks its department's quota row before placement reads where the group's members run: so
orders into one group are placed one after another, each seeing where the others went — two
anti-affinity members ordered at once never share a host."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require
from zhengyun.core import crud
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.infrastructure import quotas
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.models import ServerGroup


@service("infrastructure.create_server_group")
def create_server_group(*, actor, department, name, policy):
    return crud.create(
        actor,
        ServerGroup,
        "infrastructure.create_server_group",
        department=department,
        name=name,
        policy=policy,
        created_by=actor,
    )


@service("infrastructure.delete_server_group")
def delete_server_group(group, *, actor):
    """Delete a group none of whose members is still alive."""
    require(actor, "delete", group)
    # Orders into the group hold this row while they are placed: none joins meanwhile.
    quotas.locked_quota(group.department)
    living = group.members.exclude(status=InstanceStatus.DELETED)
    if living.exists():
        raise Conflict(
            _("Instances of this group are still alive: %(names)s.")
            % {"names": ", ".join(sorted(living.values_list("name", flat=True))[:10])}
        )
    crud.delete(actor, group, "infrastructure.delete_server_group")


def check_for_order(group, department):
    """Refuse a group of another department than the order's."""
    if group.department_id != department.pk:
        raise ValidationError(
            {"server_group": _("Choose a server group of the instance's department.")}
        )
