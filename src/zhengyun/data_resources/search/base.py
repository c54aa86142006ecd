"""What a catalog search engine takes and gives."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

# The facets a search counts and filters by: name -> the search document's field.
FACETS = {
    "provider": "department_id",
    "classification": "classification",
    "share_type": "share_type",
    "format": "format",
    "region": "region_code",
    "update_cycle": "update_cycle",
}
MAX_PAGE_SIZE = 100
MAX_FACET_VALUES = 20
# Matches are counted, and pages reach, this far at most.
MAX_OFFSET = 10_000


@dataclass(frozen=True)
class SearchQuery:
    """Words to find (empty: everything), facet filters (``FACETS`` name -> value; a region
    filter takes the region's subtree), whether only resources open to the public count,
    and the page wanted."""

    text: str = ""
    filters: dict = field(default_factory=dict)
    open_only: bool = False
    offset: int = 0
    limit: int = 20
    facets: bool = True


@dataclass(frozen=True)
class SearchResults:
    """Matching versions' ids, best first; how many match (``exact``, or at least that many
    when an engine stops counting); and per facet, the values among the counted matches
    with their counts, most frequent first."""

    version_ids: list
    total: int
    exact: bool
    facets: dict


class SearchEngine(ABC):
    """Finds published versions. An engine outside the database keeps its own index from
    ``index``, called in the publishing transaction (so it should apply the change after
    commit); the database's own engines are kept by the database."""

    @abstractmethod
    def search(self, query):
        """``SearchResults`` for a ``SearchQuery``."""

    def index(self, document):  # noqa: B027 - the database engines need no step here
        """``document`` (a saved ``SearchDocument``) replaced its resource's earlier one."""
