"""The placement scheduler (R-I4): Nova-shaped filters and weighers over in-memory host
states, per-pool ``pack``/``spread`` policies, an explainable decision record, and its own
capacity accounting. Pure Python: the database layer builds the states from its rows and
persists the claims.
"""

from .core import NoRoom, Scheduler
from .decision import Decision, FilterOutcome, PoolReason, explain
from .filters import FILTERS
from .model import HostState, PlacementRequest

__all__ = [
    "FILTERS",
    "Decision",
    "FilterOutcome",
    "HostState",
    "NoRoom",
    "PlacementRequest",
    "PoolReason",
    "Scheduler",
    "explain",
]
