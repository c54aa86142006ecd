"""Scheduler filters (R-I4, R-I2, R-X1 graded protection): each a small class with one
question, ``host_passes(host, request)``, in the shape of Nova's filters.

A filter whose answer depends only on what all hosts of a pool share (``per_pool``) is asked
once per pool per decision with one of the pool's hosts; the scheduler counts the pool's hosts
as rejected by it. ``reason`` is English with ``%(name)s`` placeholders filled from
``reason_params``: the database layer translates the template and then fills it, so the
requester reads it in Chinese.
"""

from .model import AFFINITY, ANTI_AFFINITY


def gettext_noop(message):
    """Mark ``message`` for the translation catalogue without translating it: the core has no
    Django, and ``makemessages`` picks this name up."""
    return message


class HostFilter:
    """One reason a host cannot take a request."""

    name = ""
    per_pool = False
    reason = ""

    def host_passes(self, host, request):
        raise NotImplementedError

    def reason_params(self, host, request):
        """Values for the placeholders of ``reason``."""
        return {}


class ZoneFilter(HostFilter):
    """A request for a zone goes only to that zone's pools."""

    name = "zone"
    per_pool = True
    reason = gettext_noop("The pool is in zone %(pool_zone)s, not in zone %(zone)s asked for.")

    def host_passes(self, host, request):
        return request.zone is None or host.zone == request.zone

    def reason_params(self, host, request):
        return {"pool_zone": host.zone, "zone": request.zone}


class NetworkFilter(HostFilter):
    """A system runs only where it reaches every network its users are on (R-I2)."""

    name = "network"
    per_pool = True
    reason = gettext_noop("The pool does not reach %(missing)s.")

    def host_passes(self, host, request):
        return request.networks <= host.networks

    def reason_params(self, host, request):
        return {"missing": ", ".join(sorted(request.networks - host.networks))}


class ProtectionLevelFilter(HostFilter):
    """A system of graded-protection level N never lands on a pool certified for less
    (GB/T 22239)."""

    name = "protection_level"
    per_pool = True
    reason = gettext_noop(
        "The pool is certified for graded-protection level %(pool_level)s; "
        "the system needs level %(level)s."
    )

    def host_passes(self, host, request):
        return host.protection_level >= request.protection_level

    def reason_params(self, host, request):
        return {"pool_level": host.protection_level, "level": request.protection_level}


class DedicatedPoolFilter(HostFilter):
    """A pool dedicated to a department takes only that department's instances; a shared pool
    takes everybody's, including a department that also has a dedicated pool (as Nova's
    AggregateMultiTenancyIsolation treats hosts outside any tenant's aggregate)."""

    name = "dedicated"
    per_pool = True
    reason = gettext_noop("The pool is dedicated to another department.")

    def host_passes(self, host, request):
        return host.dedicated_to is None or host.dedicated_to == request.department


class EnabledFilter(HostFilter):
    """A host in maintenance takes nothing new."""

    name = "enabled"
    reason = gettext_noop("The host is in maintenance.")

    def host_passes(self, host, request):
        return host.enabled


class AffinityFilter(HostFilter):
    """Members of an affinity group share a host: once one runs, the others go where it is."""

    name = "affinity"
    reason = gettext_noop("The host runs no member of group %(group)s, which must stay together.")

    def host_passes(self, host, request):
        if request.group_policy != AFFINITY or not request.group_hosts:
            return True
        return host.name in request.group_hosts

    def reason_params(self, host, request):
        return {"group": request.group}


class AntiAffinityFilter(HostFilter):
    """Members of an anti-affinity group never share a host (high availability)."""

    name = "anti_affinity"
    reason = gettext_noop("The host already runs a member of group %(group)s.")

    def host_passes(self, host, request):
        if request.group_policy != ANTI_AFFINITY or not request.group_hosts:
            return True
        return host.name not in request.group_hosts

    def reason_params(self, host, request):
        return {"group": request.group}


class CapacityFilter(HostFilter):
    """Room for the request's vCPUs, memory and disk, under the pool's overcommit ratios and
    less the capacity reserved for the host (R-I3). The scheduler keeps this accounting itself:
    libvirt and many hypervisors never refuse an overcommitted host."""

    name = "capacity"
    reason = gettext_noop(
        "No host has room for %(vcpus)s vCPUs, %(memory_mb)s MB of memory and %(disk_gb)s GB "
        "of disk; the largest free amounts on its hosts are %(free_vcpus)s vCPUs, "
        "%(free_memory_mb)s MB and %(free_disk_gb)s GB."
    )

    def host_passes(self, host, request):
        return host.fits(request)

    def reason_params(self, host, request):
        return {
            "vcpus": request.vcpus,
            "memory_mb": request.memory_mb,
            "disk_gb": request.disk_gb,
            "free_vcpus": host.free_vcpus,
            "free_memory_mb": host.free_memory_mb,
            "free_disk_gb": host.free_disk_gb,
        }


POOL_FILTERS = (ZoneFilter(), NetworkFilter(), ProtectionLevelFilter(), DedicatedPoolFilter())
HOST_FILTERS = (EnabledFilter(), AffinityFilter(), AntiAffinityFilter(), CapacityFilter())
# The order a decision record lists them in; a host is counted by the first that rejects it.
FILTERS = POOL_FILTERS + HOST_FILTERS
