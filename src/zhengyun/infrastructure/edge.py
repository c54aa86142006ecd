"""The network edge's NAT table kept in line with floating addresses (R-I2; design rule 5).

Whatever changes the table — an address bound to a port or to a network's egress, or let
go, or a subnet added to or removed from a network with an egress address — leaves an
``EdgeDue`` row in the same transaction, and a job applies the whole table after the
commit. The job holds the ``EdgeState`` row's lock while it reads and applies, so two
workers apply one after the other and the later always reads the later table. A worker
killed before it finished leaves the row, and the minute's reconciler applies again;
``apply`` is idempotent in every edge driver.
"""

import contextlib
import ipaddress
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from zhengyun.audit.services import record
from zhengyun.infrastructure.connections import edge_driver
from zhengyun.infrastructure.drivers.base import DriverError
from zhengyun.infrastructure.drivers.edge_base import EgressRule, NatPair, NatRules
from zhengyun.infrastructure.models import EdgeDue, EdgeState, FloatingAddress, Subnet
from zhengyun.jobs.crash_points import crash_point

logger = logging.getLogger(__name__)


def mark():
    """Record that the edge owes a new table, and apply it after the commit."""
    EdgeDue.objects.create()

    def enqueue():
        from zhengyun.infrastructure.tasks import apply_edge_task

        apply_edge_task()

    transaction.on_commit(enqueue)


def mark_network(network):
    """``network``'s subnets changed: due only when the network has an egress address."""
    if FloatingAddress.objects.filter(egress_network=network).exists():
        mark()


def desired():
    """The table the platform's records call for."""
    bound = FloatingAddress.objects.filter(port__isnull=False).select_related("port")
    pairs = [NatPair(external=fa.address, internal=fa.port.address) for fa in bound]
    egress = []
    for fa in FloatingAddress.objects.filter(egress_network__isnull=False):
        version = ipaddress.ip_address(fa.address).version
        for cidr in Subnet.objects.filter(network=fa.egress_network_id).values_list(
            "cidr", flat=True
        ):
            # An IPv4 address cannot carry an IPv6 subnet out, nor the reverse.
            if ipaddress.ip_network(cidr).version == version:
                egress.append(EgressRule(source=cidr, address=fa.address))
    return NatRules.of(pairs, egress)


def locked_state():
    """The edge's one state row, locked until the transaction ends (made on first use)."""
    if not EdgeState.objects.filter(pk=1).exists():
        # Another worker may make it first: then it is there, as wanted.
        with contextlib.suppress(IntegrityError), transaction.atomic():
            EdgeState.objects.create(pk=1)
    return EdgeState.objects.select_for_update().get(pk=1)


def apply():
    """The job: give the edge the whole table if it owes one; what happened."""
    with transaction.atomic():
        state = locked_state()
        due = list(EdgeDue.objects.values_list("pk", flat=True))
        if not due:
            return "applied"  # a retry after the marks were consumed
        rules = desired()
        try:
            edge_driver().apply(rules)
        except DriverError as exc:  # marks kept: the reconciler tries again
            logger.warning("the edge refused its NAT table: %s", exc)
            state.detail = str(exc)[:300]
            state.save(update_fields=["detail"])
            return "failed"
        crash_point("edge.applied")
        EdgeDue.objects.filter(pk__in=due).delete()
        state.applied_at = timezone.now()
        state.detail = f"pairs={len(rules.pairs)} egress={len(rules.egress)}"
        state.save(update_fields=["applied_at", "detail"])
        record(actor=None, action="infrastructure.apply_edge", obj=state, detail=state.detail)
        return state.detail


def unfinished():
    """Whether a change is still to be given to the edge."""
    return EdgeDue.objects.exists()
