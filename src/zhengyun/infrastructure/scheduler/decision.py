"""The explainable placement decision (R-I4): shown to the requester and the operator, kept by
the database layer as JSON.

It stays small however many hosts there are: per filter a count of the hosts and pools it
rejected with a few of their names, the top few hosts with their weight components, and — for
a failure — one reason per pool, for a bounded number of pools.
"""

from dataclasses import dataclass, field

from .filters import FILTERS

REASON_POOLS = 20
SAMPLE_POOLS = 10
REASONS = {f.name: f.reason for f in FILTERS}


def explain(record, translate=str):
    """One line per pool saying why it could not take the request, from a stored decision
    record (``Decision.as_dict()``); each template passes through ``translate`` (gettext)
    before it is filled in, so the reader gets it in their language."""
    return [f"{r['pool']}: {translate(r['reason']) % r['params']}" for r in record["reasons"]]


@dataclass(frozen=True, slots=True)
class FilterOutcome:
    """What one filter rejected in one decision: hosts (a count and a few names) and the pools
    it rejected whole."""

    filter: str
    rejected_hosts: int = 0
    hosts: tuple = ()
    rejected_pools: int = 0
    pools: tuple = ()

    def as_dict(self):
        return {
            "filter": self.filter,
            "rejected_hosts": self.rejected_hosts,
            "hosts": list(self.hosts),
            "rejected_pools": self.rejected_pools,
            "pools": list(self.pools),
        }


@dataclass(frozen=True, slots=True)
class PoolReason:
    """Why no host of one pool could take the request: the filter that removed its last hosts
    and the values for its reason template (stored with the record, so that a record read
    years later still says what it said)."""

    pool: str
    filter: str
    params: dict

    @property
    def message(self):
        """The reason in English."""
        return REASONS[self.filter] % self.params

    def as_dict(self):
        return {
            "pool": self.pool,
            "filter": self.filter,
            "reason": REASONS[self.filter],
            "params": self.params,
        }


@dataclass(eq=False, slots=True)
class Decision:
    """The outcome of one ``Scheduler.select``.

    ``host`` is the chosen ``HostState`` or ``None``. ``filters`` lists every filter in the
    order applied; a host is counted by the first filter that rejected it. ``outranked``
    counts hosts that passed the filters so far but were not weighed because hosts the policy
    prefers already fit (or fit but rank below the hosts in ``weights``): none could have won.
    ``weights`` are the best few hosts that fit, best first, with their weight components.
    ``reasons`` explain a failure pool by pool.
    """

    request: object
    host: object
    hosts_total: int
    filters: list
    outranked: int = 0
    weights: list = field(default_factory=list)
    reasons: list = field(default_factory=list)
    reasons_omitted: int = 0

    def rejected_by(self, name):
        """The outcome of the filter called ``name``."""
        return next(outcome for outcome in self.filters if outcome.filter == name)

    def messages(self, translate=str):
        """One line per pool saying why it could not take the request (see ``explain``)."""
        return explain(self.as_dict(), translate)

    def as_dict(self):
        """The decision as JSON-ready data."""
        return {
            "host": self.host.name if self.host is not None else None,
            "pool": self.host.pool if self.host is not None else None,
            "request": self.request.as_dict(),
            "hosts_total": self.hosts_total,
            "filters": [outcome.as_dict() for outcome in self.filters],
            "outranked": self.outranked,
            "weights": [
                {k: round(v, 4) if isinstance(v, float) else v for k, v in weight.items()}
                for weight in self.weights
            ],
            "reasons": [reason.as_dict() for reason in self.reasons],
            "reasons_omitted": self.reasons_omitted,
        }
