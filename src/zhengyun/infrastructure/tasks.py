"""Jobs of the infrastructure app: an instance's build, resize, start, stop, reboot and
deletion, a volume's or snapshot's next step, applying an instance's firewall, a load
balancer's configuration applied or removed, its members' health read and its certificates'
expiry warned of, the network
edge's NAT table applied, deleted networks taken off the hypervisors, hosts in standby
powered down, scaling groups scaled, reconcilers that move on any a killed worker left
half-way, the minute's metrics collection, the hourly usage figures, and approved
consolidation plans run in their windows."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from zhengyun.infrastructure import (
    balancer_lifecycle,
    certificate_expiry,
    consolidation_runs,
    edge,
    firewalls,
    guest_networks,
    host_power,
    lifecycle,
    maintenance,
    power_lifecycle,
    reclamation,
    resize_lifecycle,
    scaling_lifecycle,
    volume_lifecycle,
)
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.monitoring import aggregates, alerts, collector, rollup, usage
from zhengyun.jobs.runner import tracked


@db_task(retries=3, retry_delay=5)
@tracked
def build_instance_task(instance_id):
    return lifecycle.build(instance_id)


@db_task(retries=3, retry_delay=5)
@tracked
def destroy_instance_task(instance_id):
    return lifecycle.destroy(instance_id)


@db_task(retries=3, retry_delay=5)
@tracked
def resize_instance_task(resize_id):
    return resize_lifecycle.advance_resize(resize_id)


@db_periodic_task(crontab(minute="*"))
@tracked
def reconcile_resizes_task():
    """Every minute: carry out or give back every resize a killed worker left open."""
    unfinished = resize_lifecycle.unfinished()
    for resize_id in unfinished:
        resize_lifecycle.advance_resize(resize_id)
    return len(unfinished)


@db_task(retries=3, retry_delay=5)
@tracked
def power_instance_task(instance_id):
    return power_lifecycle.advance(instance_id)


@db_periodic_task(crontab(minute="*"))
@tracked
def reconcile_power_task():
    """Every minute: finish every start, stop or reboot a killed worker left half-way."""
    unfinished = power_lifecycle.unfinished()
    for instance_id in unfinished:
        power_lifecycle.advance(instance_id)
    return len(unfinished)


@db_task(retries=3, retry_delay=5)
@tracked
def advance_volume_task(volume_id):
    return volume_lifecycle.advance_volume(volume_id)


@db_task(retries=3, retry_delay=5)
@tracked
def advance_snapshot_task(snapshot_id):
    return volume_lifecycle.advance_snapshot(snapshot_id)


@db_periodic_task(crontab(minute="*"))
@tracked
def reconcile_volumes_task():
    """Every minute: the owed step of every volume and snapshot in a transitional state —
    among them volumes waiting for their instance's guest to be built."""
    unfinished = volume_lifecycle.unfinished()
    for kind, pk in unfinished:
        if kind == "volume":
            volume_lifecycle.advance_volume(pk)
        else:
            volume_lifecycle.advance_snapshot(pk)
    return len(unfinished)


@db_task(retries=3, retry_delay=5)
@tracked
def apply_load_balancer_task(balancer_id):
    return balancer_lifecycle.advance(balancer_id)


@db_periodic_task(crontab(minute="*"))
@tracked
def reconcile_load_balancers_task():
    """Every minute: apply or remove every load balancer a job is still owed to."""
    unfinished = balancer_lifecycle.unfinished()
    for balancer_id in unfinished:
        balancer_lifecycle.advance(balancer_id)
    return len(unfinished)


@db_periodic_task(crontab(minute="*"))
@tracked
def read_balancer_health_task():
    """Every minute: the members' health as the load balancers' checks see it."""
    active = balancer_lifecycle.active()
    for balancer_id in active:
        balancer_lifecycle.read_health(balancer_id)
    return len(active)


@db_periodic_task(crontab(minute="*"))
@tracked
def reconcile_instances_task():
    """Every minute: run again the step of every instance still building or deleting."""
    unfinished = lifecycle.unfinished()
    for instance_id, status in unfinished:
        if status == InstanceStatus.BUILDING:
            lifecycle.build(instance_id)
        else:
            lifecycle.destroy(instance_id)
    return len(unfinished)


@db_periodic_task(crontab(minute="20"))
@tracked
def warn_certificate_expiry_task():
    """Every hour: warn departments of HTTPS certificates about to expire or expired."""
    return certificate_expiry.warn()


@db_task(retries=3, retry_delay=5)
@tracked
def power_down_hosts_task(host_ids):
    return [host_power.power_down(host_id) for host_id in host_ids]


@db_periodic_task(crontab(minute="*/5"))
@tracked
def settle_host_power_task():
    """Every five minutes: follow up every power change through a BMC (a shutdown seen
    through or forced, a host taken back), and power down empty standby hosts still on."""
    hosts = host_power.to_settle()
    for host_id in hosts:
        host_power.settle(host_id)
    return len(hosts)


@db_task(retries=3, retry_delay=5)
@tracked
def scale_group_task(group_id):
    return scaling_lifecycle.scale(group_id)


@db_periodic_task(crontab(minute="*"))
@tracked
def scale_groups_task():
    """Every minute: scheduled actions, target tracking and converging of every scaling
    group, and the removal of deleted ones."""
    return len(scaling_lifecycle.tick())


@db_task(retries=3, retry_delay=5)
@tracked
def apply_firewall_task(instance_id):
    return firewalls.apply(instance_id)


@db_periodic_task(crontab(minute="*"))
@tracked
def reconcile_firewalls_task():
    """Every minute: give their rules to the instances still owed them — a change whose
    job a killed worker never finished, or a hypervisor that did not answer."""
    unfinished = firewalls.unfinished()
    for instance_id in unfinished:
        firewalls.apply(instance_id)
    return len(unfinished)


@db_task(retries=3, retry_delay=5)
@tracked
def remove_deleted_networks_task():
    return guest_networks.remove_deleted()


@db_periodic_task(crontab(minute="35"))
@tracked
def reconcile_networks_task():
    """Every hour: take deleted networks off the hypervisors — a removal a killed worker
    never finished, or a hypervisor that did not answer."""
    return guest_networks.remove_deleted()


@db_task(retries=3, retry_delay=5)
@tracked
def apply_edge_task():
    return edge.apply()


@db_periodic_task(crontab(minute="*"))
@tracked
def reconcile_edge_task():
    """Every minute: give the edge its NAT table if a change is still owed to it — a job a
    killed worker never finished, or an edge that refused or did not answer."""
    return edge.apply() if edge.unfinished() else "applied"


@db_periodic_task(crontab(minute="*"))
@tracked
def collect_metrics_task():
    """Every minute: sample hosts and instances, sum them up per pool and department, roll
    up, prune, check thresholds (R-I4)."""
    now = timezone.now()
    run = collector.collect(now)
    aggregates.sum_up_minute(collector.minute_of(now))
    rollup.roll_up(now)
    rollup.prune()
    raised, cleared = alerts.evaluate()
    return f"{run}; alerts raised={raised} cleared={cleared}"


# Draining hosts in maintenance, and the moves operators ask for (R-I4): each instance's
# move is its own job.


@db_task(retries=3, retry_delay=5)
@tracked
def drain_host_task(host_id):
    opened = maintenance.drain(host_id)
    for migration_id in opened:
        migrate_instance_task(migration_id)
    return len(opened)


@db_task(retries=3, retry_delay=5)
@tracked
def migrate_instance_task(migration_id):
    return maintenance.migrate(migration_id)


@db_periodic_task(crontab(minute="*"))
@tracked
def reconcile_maintenance_task():
    """Every minute: open the moves a killed drain did not, and run again every move a
    killed worker left half-way."""
    for host_id in maintenance.hosts_in_maintenance():
        maintenance.drain(host_id)
    opened = maintenance.open_migrations()
    for migration_id in opened:
        maintenance.migrate(migration_id)
    return len(opened)


# Utilisation, energy and idle instances (R-G3).


@db_periodic_task(crontab(minute="5"))
@tracked
def account_usage_task():
    """Every hour: read the pools' claims and recompute today's pool and department days."""
    return f"day rows written={usage.account()}"


@db_periodic_task(crontab(hour="2", minute="15"))
@tracked
def propose_reclamations_task():
    """Every night: propose newly idle instances to their departments, withdraw the rest."""
    proposed, withdrawn = reclamation.propose()
    return f"proposed={proposed} withdrawn={withdrawn}"


@db_periodic_task(crontab(minute="*"))
@tracked
def run_consolidation_plans_task():
    """Every minute: start approved consolidation plans whose pool's maintenance window is
    open, carry them on, pause them when it closes, expire stale ones (R-I4)."""
    return len(consolidation_runs.tick())
