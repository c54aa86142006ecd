"""Starting, stopping and rebooting a department's instance (R-I1, R-I3).

Each service locks the instance's row, refuses — changing nothing — unless the instance is
in the one settled state the action starts from, and marks it with a transitional status
(``stopping``, ``starting``, ``rebooting``) in one transaction with its audit event. The
worker (``power_lifecycle``) then asks the hypervisor and settles the status, or returns
the instance to the state it started from with the hypervisor's refusal shown.

Deleting an instance that is stopping, starting or rebooting is allowed: ordered before
the job has run, the deletion supersedes the power change (the job finds the instance
deleting and does nothing); ordered while the job runs, it waits for the instance's row,
which the job holds until it has settled the status, as it does for a build.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zhengyun.accounts.access import require
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.models import Instance
from zhengyun.infrastructure.models.maintenance import OPEN

# transitional status: (the settled state it starts from, the one it ends in)
TRANSITIONS = {
    InstanceStatus.STOPPING: (InstanceStatus.ACTIVE, InstanceStatus.STOPPED),
    InstanceStatus.STARTING: (InstanceStatus.STOPPED, InstanceStatus.ACTIVE),
    InstanceStatus.REBOOTING: (InstanceStatus.ACTIVE, InstanceStatus.ACTIVE),
}

REFUSALS = {
    InstanceStatus.STOPPING: _("It is %(status)s; only a running instance can be stopped."),
    InstanceStatus.STARTING: _("It is %(status)s; only a stopped instance can be started."),
    InstanceStatus.REBOOTING: _("It is %(status)s; only a running instance can be rebooted."),
}


def _change_power(instance, actor, transitional, action):
    from zhengyun.infrastructure.tasks import power_instance_task

    require(actor, "change", instance)
    instance = Instance.objects.select_for_update(of=("self",)).get(pk=instance.pk)
    if transitional not in available(instance):
        raise Conflict(REFUSALS[transitional] % {"status": instance.get_status_display()})
    if instance.migrations.filter(status__in=OPEN).exists():
        # The move's job stops and starts the guest itself.
        raise Conflict(_("The instance is being moved to another host; try again afterwards."))
    before = snapshot(instance)
    instance.status, instance.status_detail = transitional, ""
    instance.save(update_fields=["status", "status_detail"])
    record(actor=actor, action=action, obj=instance, changes=diff(before, snapshot(instance)))
    transaction.on_commit(lambda: power_instance_task(instance.pk))
    return instance


@service("infrastructure.stop_instance")
def stop_instance(instance, *, actor):
    """Stop a running instance: shut its guest down cleanly, powered off if it does not
    comply in time. Its host and quota stay claimed, so it can always be started again."""
    return _change_power(instance, actor, InstanceStatus.STOPPING, "infrastructure.stop_instance")


@service("infrastructure.start_instance")
def start_instance(instance, *, actor):
    """Start a stopped instance."""
    return _change_power(instance, actor, InstanceStatus.STARTING, "infrastructure.start_instance")


@service("infrastructure.reboot_instance")
def reboot_instance(instance, *, actor):
    """Restart a running instance's guest."""
    return _change_power(
        instance, actor, InstanceStatus.REBOOTING, "infrastructure.reboot_instance"
    )


def available(instance):
    """The transitional statuses ``instance`` may be moved to now: what the console offers."""
    if instance.host_id is None:
        return set()
    return {status for status, (settled, _end) in TRANSITIONS.items() if instance.status == settled}
