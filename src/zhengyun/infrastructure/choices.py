"""Enumerations of the infrastructure domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NetworkReach(models.TextChoices):
    """The networks a pool's hosts reach (R-I2): a system is placed only where its users are."""

    GOV_INTERNAL = "gov_internal", _("Government intranet (政务内网)")
    GOV_EXTRANET = "gov_extranet", _("Government extranet (政务外网)")
    INTERNET = "internet", _("Internet")


class PlacementPolicy(models.TextChoices):
    """How a pool chooses among hosts that fit (R-I4)."""

    PACK = "pack", _("Pack (consolidate, save energy)")
    SPREAD = "spread", _("Spread (high availability)")


class ProtectionLevel(models.IntegerChoices):
    """Graded-protection levels of GB/T 22239 (等保)."""

    LEVEL_1 = 1, _("Level 1")
    LEVEL_2 = 2, _("Level 2")
    LEVEL_3 = 3, _("Level 3")
    LEVEL_4 = 4, _("Level 4")


class HostPower(models.TextChoices):
    """A host's power as the platform last set or saw it through its BMC."""

    ON = "on", _("On")
    STOPPING = "stopping", _("Powering down")
    OFF = "off", _("Powered down")
    STARTING = "starting", _("Powering on")


class InstanceStatus(models.TextChoices):
    """Where an instance is in its life; every state is visible to its department."""

    BUILDING = "building", _("Building")
    ACTIVE = "active", _("Running")
    STOPPED = "stopped", _("Stopped")
    STOPPING = "stopping", _("Stopping")
    STARTING = "starting", _("Starting")
    REBOOTING = "rebooting", _("Rebooting")
    RESIZING = "resizing", _("Resizing")
    DELETING = "deleting", _("Deleting")
    DELETED = "deleted", _("Deleted")
    ERROR = "error", _("Error")


class OsFamily(models.TextChoices):
    """Operating systems of the platform's catalogue (domestic ones first)."""

    OPENEULER = "openeuler", "openEuler"
    KYLIN = "kylin", _("Kylin (银河麒麟)")
    UOS = "uos", _("UnionTech OS (统信 UOS)")
    OTHER_LINUX = "linux", _("Other Linux")


class Resolution(models.TextChoices):
    """How long a metrics bucket spans; each is kept for its own window (R-I4)."""

    MINUTE = "minute", _("Minute")
    HOUR = "hour", _("Hour")
    DAY = "day", _("Day")


class ThresholdMetric(models.TextChoices):
    """The figures a threshold may watch: hosts' are the operators', instances' are also
    their department's. Host metrics start ``host_``, instance metrics ``instance_`` (the
    database's constraints on a threshold's scope rely on it)."""

    HOST_CPU = "host_cpu", _("Host CPU (%)")
    HOST_MEMORY = "host_memory", _("Host memory (%)")
    HOST_POWER = "host_power", _("Host power (W)")
    HOST_DISK_READ = "host_disk_read", _("Host disk read (bytes/s)")
    HOST_DISK_WRITE = "host_disk_write", _("Host disk write (bytes/s)")
    HOST_NET_RX = "host_net_rx", _("Host network in (bytes/s)")
    HOST_NET_TX = "host_net_tx", _("Host network out (bytes/s)")
    INSTANCE_CPU = "instance_cpu", _("Instance CPU (%)")
    INSTANCE_DISK_READ = "instance_disk_read", _("Instance disk read (bytes/s)")
    INSTANCE_DISK_WRITE = "instance_disk_write", _("Instance disk write (bytes/s)")
    INSTANCE_NET_RX = "instance_net_rx", _("Instance network in (bytes/s)")
    INSTANCE_NET_TX = "instance_net_tx", _("Instance network out (bytes/s)")

    @property
    def watches_hosts(self):
        return self.value.startswith("host_")


# The highest limit that makes sense for each metric: a percentage, a server's watts; the
# byte rates stop at 100 GB/s, beyond any single machine's disks or links.
THRESHOLD_TOPS = {
    ThresholdMetric.HOST_CPU: 100.0,
    ThresholdMetric.HOST_MEMORY: 100.0,
    ThresholdMetric.HOST_POWER: 20_000.0,
    ThresholdMetric.INSTANCE_CPU: 100.0,
}
BYTES_PER_S_TOP = 100e9


class VolumeStatus(models.TextChoices):
    """Where a volume or snapshot is in its life; the worker moves it out of every
    transitional state (creating, attaching, detaching, deleting)."""

    CREATING = "creating", _("Creating")
    AVAILABLE = "available", _("Available")
    ATTACHING = "attaching", _("Attaching")
    IN_USE = "in_use", _("In use")
    DETACHING = "detaching", _("Detaching")
    DELETING = "deleting", _("Deleting")
    DELETED = "deleted", _("Deleted")
    ERROR = "error", _("Error")


class MigrationStatus(models.TextChoices):
    """Where one instance's move off a host in maintenance is: waiting for a target,
    claimed on its target and being moved, or finished one way or the other."""

    PENDING = "pending", _("Waiting")
    MIGRATING = "migrating", _("Moving")
    DONE = "done", _("Moved")
    FAILED = "failed", _("Could not move")
    CANCELLED = "cancelled", _("Cancelled")


class ReclamationStatus(models.TextChoices):
    """Where a proposal to reclaim an idle instance stands: the department answers."""

    OPEN = "open", _("Awaiting the department's answer")
    KEPT = "kept", _("Kept by the department")
    RELEASED = "released", _("Released by the department")
    STOPPED = "stopped", _("Stopped by the department")
    WITHDRAWN = "withdrawn", _("Withdrawn (busy again or gone)")


class GroupPolicy(models.TextChoices):
    """Whether the members of a server group share a host or never do (R-I4)."""

    AFFINITY = "affinity", _("Together on one host (affinity)")
    ANTI_AFFINITY = "anti-affinity", _("Never on the same host (anti-affinity)")


class ResizeStatus(models.TextChoices):
    """Where an instance's change of flavour is: under way (its new size claimed), refused
    by the hypervisor and being put back, done, or given up with its old size restored and
    the reason shown."""

    RESIZING = "resizing", _("Resizing")
    REVERTING = "reverting", _("Restoring the old size")
    DONE = "done", _("Resized")
    FAILED = "failed", _("Could not resize")


class RuleDirection(models.TextChoices):
    """Which traffic a security group rule lets through, seen from the instance."""

    INGRESS = "ingress", _("Inbound")
    EGRESS = "egress", _("Outbound")


class EtherType(models.TextChoices):
    """The IP version a security group rule applies to."""

    IPV4 = "IPv4", "IPv4"
    IPV6 = "IPv6", "IPv6"


class RuleProtocol(models.TextChoices):
    """The protocol a security group rule matches; ports only for TCP and UDP."""

    ANY = "any", _("Any")
    TCP = "tcp", "TCP"
    UDP = "udp", "UDP"
    ICMP = "icmp", "ICMP"


class WindowDays(models.TextChoices):
    """Which days a maintenance window opens on, by the Chinese working calendar."""

    ANY = "any", _("Every day")
    WORKDAYS = "workdays", _("Working days")
    NON_WORKDAYS = "non_workdays", _("Non-working days (weekends and holidays)")


class PlanStatus(models.TextChoices):
    """Where a consolidation plan is: waiting for approval, decided, running in a window,
    or ended one way or another."""

    PROPOSED = "proposed", _("Waiting for approval")
    APPROVED = "approved", _("Approved, waiting for a window")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    EXPIRED = "expired", _("Expired")


class MoveStatus(models.TextChoices):
    """Where one move of a consolidation plan is."""

    PENDING = "pending", _("Waiting")
    MOVING = "moving", _("Moving")
    DONE = "done", _("Moved")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Could not move")


class BalancerStatus(models.TextChoices):
    """Where a load balancer's configuration is: waiting for the worker to apply it, applied,
    refused by the driver, or being removed."""

    PENDING = "pending", _("Applying")
    ACTIVE = "active", _("Active")
    ERROR = "error", _("Error")
    DELETING = "deleting", _("Deleting")


class OperatingStatus(models.TextChoices):
    """What health checks say: of a member, whether it takes traffic; of a load balancer,
    how many of its members do."""

    ONLINE = "online", _("Online")
    DEGRADED = "degraded", _("Degraded")
    OFFLINE = "offline", _("Offline")
    UNKNOWN = "unknown", _("Unknown")


class ListenerProtocol(models.TextChoices):
    """What a listener balances: connections (TCP) or HTTP requests, in the clear or over
    TLS ended at the load balancer (HTTPS)."""

    TCP = "tcp", "TCP"
    HTTP = "http", "HTTP"
    HTTPS = "https", "HTTPS"


class BalancingAlgorithm(models.TextChoices):
    """How a pool chooses the member for a new connection."""

    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_CONNECTIONS = "least_connections", _("Least connections")
    SOURCE_IP = "source_ip", _("Source IP (sticky)")


class MonitorType(models.TextChoices):
    """How a pool's members are checked: a TCP connection or an HTTP request."""

    TCP = "tcp", _("TCP connection")
    HTTP = "http", _("HTTP request")


class ScheduleDays(models.TextChoices):
    """Which days a scheduled scaling action runs on, by the Chinese working calendar."""

    EVERY_DAY = "every_day", _("Every day")
    WORKDAYS = "workdays", _("Working days")
    NON_WORKDAYS = "non_workdays", _("Non-working days")


class ActivityCause(models.TextChoices):
    """Why a scaling group's size changed or an order was attempted."""

    TARGET = "target", _("Target tracking")
    SCHEDULE = "schedule", _("Scheduled action")
    MANUAL = "manual", _("Set by hand")
    CONVERGE = "converge", _("Ordering members")


class ActivityResult(models.TextChoices):
    """How a scaling activity ended."""

    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
