"""The one restriction helper: ``Model.objects.restrict(user, action)`` (design rule 2).

Every tenant-aware model declares a ``Scoping`` saying how its rows reach a region code,
a department and (for personal rows) an owning user. The accounts app turns a user's role
assignments into a filter over those paths; views, the API and services never filter by
tenant on their own.
"""

from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class Scoping:
    """How rows of a model are placed in the region/department tree.

    ``region_codes``: lookups reaching a region code (a row is in a region subtree when one of
    them starts with the subtree's code prefix). ``department``: lookup reaching the owning
    department's id. ``region_above_department``: lookup reaching a region code; a department
    sees the row when that region is its own region or one above it. ``owner``: lookup
    reaching a user who may always act on the row with ``owner_actions``. ``shared``:
    reference data every signed-in user may view. ``sides``: for rows between two
    departments (a request from one to another), one ``Side`` per department: a role of that
    department, or over a region holding it, acts on the row only with that side's actions.
    """

    region_codes: tuple[str, ...] = ()
    department: str | None = None
    region_above_department: str | None = None
    owner: str | None = None
    owner_actions: frozenset[str] = frozenset({"view"})
    shared: bool = False
    sides: tuple["Side", ...] = ()

    def department_lookups(self, action):
        """The lookups reaching the departments whose roles may perform ``action`` on a row."""
        own = (self.department,) if self.department else ()
        return own + tuple(side.department for side in self.sides if action in side.actions)

    def region_lookups(self, action):
        """The lookups reaching the region codes a regional role is matched against."""
        if not self.sides:
            return self.region_codes
        return tuple(side.region_code for side in self.sides if action in side.actions)


@dataclass(frozen=True)
class Side:
    """One department's part in a row between two: the lookups reaching its id and its
    region's code, and what it may do."""

    department: str
    region_code: str
    actions: frozenset[str]


class RestrictedQuerySet(models.QuerySet):
    """A queryset that can narrow itself to what a user may see or change."""

    def restrict(self, user, action="view"):
        """Only the rows ``user`` may perform ``action`` on; none for anonymous users."""
        from zhengyun.accounts.access import restriction_filter

        condition = restriction_filter(user, self.model, action)
        if condition is None:
            return self.none()
        return self.filter(condition)


RestrictedManager = models.Manager.from_queryset(RestrictedQuerySet)
