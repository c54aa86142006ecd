"""Weighers (R-I4, R-G3): among hosts that pass every filter, which one a pool's policy
prefers.

Nova's weighers each map a host to a number, normalise it to [0, 1] across the hosts that
passed (min-max), multiply it by a multiplier and add the results. Here the number is the
host's *utilisation*: the largest of its used vCPU, memory and disk shares, each a fraction
of what the pool may allocate on the host (its dominant resource). It lies in [0, 1] by
construction, so it needs no min-max step — and because it does not depend on which other
hosts passed, the scheduler can keep hosts ranked by it instead of weighing them all for every
decision.

``pack`` multiplies by +1: the most used host that fits wins, so new instances fill running
hosts and empty hosts stay empty, ready to be powered down. The dominant resource rather than
an average (Kubernetes' MostAllocated) because the scarcest resource is what strands a host:
with CPU overcommitted four times, memory runs out first, and a host with 95 % of its memory
taken is fuller than one with 80 %, whatever their CPU. ``spread`` multiplies by -1: the least
used host wins, for high availability.

A host in standby (emptied by a consolidation, powered down or about to be) loses
``STANDBY_PENALTY``, more than any utilisation weighs: under either policy it is woken only when
no running host has room, since waking it costs its idle draw (R-G3).
"""

from .model import PACK, SPREAD

MULTIPLIERS = {PACK: 1.0, SPREAD: -1.0}
STANDBY_PENALTY = 2.0


def weight(multiplier, utilisation, standby):
    """A host's weight: its policy's multiplier × its utilisation, less the standby penalty."""
    return multiplier * utilisation - (STANDBY_PENALTY if standby else 0.0)


def share(used, usable):
    """``used`` as a fraction of ``usable``; a resource the host has none of counts as unused
    when nothing uses it and as full otherwise."""
    if usable > 0:
        return used / usable
    return 0.0 if used <= 0 else 1.0


class UtilisationWeigher:
    """A host's weight under its pool's policy: multiplier × utilisation, less the standby
    penalty."""

    def components(self, host):
        """The used share of each resource, the utilisation and the weight, for the record."""
        cpu = share(host.used_vcpus, host.usable_vcpus)
        ram = share(host.used_memory_mb, host.usable_memory_mb)
        disk = share(host.used_disk_gb, host.usable_disk_gb)
        utilisation = max(cpu, ram, disk)
        multiplier = MULTIPLIERS[host.policy]
        return {
            "cpu": cpu,
            "ram": ram,
            "disk": disk,
            "utilisation": utilisation,
            "multiplier": multiplier,
            "standby": host.standby,
            "weight": weight(multiplier, utilisation, host.standby),
        }

    def weight(self, host):
        return self.components(host)["weight"]
