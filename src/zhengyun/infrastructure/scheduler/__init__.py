"""The placement scheduler (R-I4): Nova-shaped filters and weighers over in-memory host
states, per-pool ``pack``/``spread`` policies, an explainable decision record, its own
capacity accounting, and a consolidation planner. Pure Python: the database layer builds the
states from its rows and persists the claims.
"""

from .consolidation import ConsolidationPlan, Migration, plan_consolidation
from .core import NoRoom, Scheduler
from .decision import Decision, FilterOutcome, PoolReason, explain
from .filters import FILTERS
from .model import HostState, PlacementRequest

__all__ = [
    "ConsolidationPlan",
    "FILTERS",
    "Decision",
    "FilterOutcome",
    "HostState",
    "Migration",
    "NoRoom",
    "PlacementRequest",
    "PoolReason",
    "Scheduler",
    "explain",
    "plan_consolidation",
]
