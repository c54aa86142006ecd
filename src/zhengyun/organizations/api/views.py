"""API views of the organisations domain: reads restricted, writes through services."""

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet, ServiceModelViewSet
from zhengyun.organizations import services
from zhengyun.organizations.api import serializers
from zhengyun.organizations.filtersets import (
    DepartmentApiFilterSet,
    RegionFilterSet,
    ServiceProviderFilterSet,
)
from zhengyun.organizations.models import Department, Region, ServiceProvider, VerticalLine


class RegionViewSet(ServiceModelViewSet):
    model = Region
    serializer_class = serializers.RegionSerializer
    filterset_class = RegionFilterSet
    ordering_fields = ["code", "name", "level"]
    create_service = services.create_region
    update_service = services.update_region
    delete_service = services.delete_region


class DepartmentViewSet(ServiceModelViewSet):
    model = Department
    select_related = ("region",)
    serializer_class = serializers.DepartmentSerializer
    filterset_class = DepartmentApiFilterSet
    ordering_fields = ["name", "uscc", "created_at"]
    create_service = services.create_department
    update_service = services.update_department
    delete_service = services.delete_department


class ServiceProviderViewSet(ServiceModelViewSet):
    model = ServiceProvider
    serializer_class = serializers.ServiceProviderSerializer
    filterset_class = ServiceProviderFilterSet
    ordering_fields = ["name", "created_at"]
    create_service = services.create_service_provider
    update_service = services.update_service_provider
    delete_service = services.delete_service_provider


class VerticalLineViewSet(RestrictedReadOnlyViewSet):
    model = VerticalLine
    serializer_class = serializers.VerticalLineSerializer
    ordering_fields = ["code", "name"]
