"""Filters for region, department and provider lists (console and API share them)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhengyun.core.filters import IdFilter, VisibleChoiceFilter
from zhengyun.organizations.models import Department, Region, ServiceProvider, VerticalLine


class SearchFilterMixin(django_filters.FilterSet):
    """``q``: a name or code fragment."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    search_fields = ()

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class RegionFilterSet(SearchFilterMixin):
    search_fields = ("name", "code")
    parent = VisibleChoiceFilter(Region, label=_("Parent region"))
    within = django_filters.CharFilter(method="filter_within", label=_("Within region code"))

    class Meta:
        model = Region
        fields = ["level", "parent", "code"]

    def filter_within(self, queryset, name, value):
        region = Region.objects.filter(code=value).first()
        return queryset.filter(code__startswith=region.prefix) if region else queryset.none()


class DepartmentFilterSet(SearchFilterMixin):
    """The console's department filters: the region by division code (a province has hundreds
    of regions — too many for a drop-down on every page view)."""

    search_fields = ("name", "short_name", "uscc")
    within = django_filters.CharFilter(method="filter_within", label=_("Within region code"))
    vertical_line = VisibleChoiceFilter(VerticalLine, label=_("Vertical line"))
    parent = IdFilter(field_name="parent", label=_("Parent department id"))

    class Meta:
        model = Department
        fields = ["kind", "vertical_line", "is_active", "uscc"]

    def filter_within(self, queryset, name, value):
        region = Region.objects.filter(code=value).first()
        return (
            queryset.filter(region__code__startswith=region.prefix) if region else queryset.none()
        )


class DepartmentApiFilterSet(DepartmentFilterSet):
    """The API adds filtering by region id."""

    region = VisibleChoiceFilter(Region, label=_("Region"))


class ServiceProviderFilterSet(SearchFilterMixin):
    search_fields = ("name", "uscc")
    region = VisibleChoiceFilter(Region, label=_("Region"))

    class Meta:
        model = ServiceProvider
        fields = ["kind", "region", "is_active"]
