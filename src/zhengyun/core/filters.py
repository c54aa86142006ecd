"""Filter helpers: choices limited to what the requesting user may see, so a filter on an
invisible object fails exactly like one on a missing object; ids and moments the databases
take whatever the input."""

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _


def visible_to_requester(model):
    """A queryset callable for django-filter: ``model`` rows the request's user may view."""

    def queryset(request):
        if request is None:
            return model.objects.none()
        return model.objects.restrict(request.user, "view")

    return queryset


def VisibleChoiceFilter(model, **kwargs):  # noqa: N802 - reads like the filter class it builds
    """A ModelChoiceFilter over the rows of ``model`` the requester may view."""
    return django_filters.ModelChoiceFilter(queryset=visible_to_requester(model), **kwargs)


class IdField(forms.IntegerField):
    """A database id: a positive integer that fits a 64-bit column."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=2**63 - 1, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """Filter by a related object's id; out-of-range numbers are invalid input, not a crash
    in the database driver."""

    field_class = IdField


class MomentField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment, held in UTC: Python reads offsets up to ±23:59, PostgreSQL
    refuses those past ±15:59."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(_("A moment between the years 1 and 9999.")) from None


class MomentFilter(django_filters.IsoDateTimeFilter):
    """Filter by a moment such as 2026-11-27T08:00:00+08:00."""

    field_class = MomentField
