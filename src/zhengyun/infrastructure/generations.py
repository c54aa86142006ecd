"""A table-wide change stamp on hosts, so that a process keeping the hosts in memory can ask
the database which rows changed since it last looked instead of reading them all (R-I4).

Every write of a host row takes one more than the highest stamp in the table: claims and
releases set it in their UPDATE, and every ORM save — a new provider's hosts, a maintenance
flag set in a form or the API — through ``GenerationField``. Two transactions writing at once
on PostgreSQL may take the same stamp, or commit in the other order; readers allow for that
(see ``placement``), since a missed stamp may only leave a reader's view stale, never let it
over-commit.
"""

from django.db import models
from django.db.models import Subquery, Value
from django.db.models.functions import Coalesce


def next_generation(model):
    """An expression for one more than the highest stamp of ``model``'s table, read through
    the index on the stamp."""
    highest = model._base_manager.order_by("-generation").values("generation")[:1]
    return Coalesce(Subquery(highest), Value(0), output_field=models.BigIntegerField()) + 1


class GenerationField(models.PositiveBigIntegerField):
    """A change stamp that every save of the row renews. A save restricted by
    ``update_fields`` renews it only when the list names it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", 0)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        return next_generation(self.model)
