"""API of the information resource catalog (R-D1, R-A4): departments' records, their review,
and the published catalog. Reads restricted, writes through ``catalog``."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet, ServiceModelViewSet
from zhengyun.data_resources import (
    catalog,
    datasets,
    department_databases,
    search,
    upstreams,
)
from zhengyun.data_resources.api import serializers
from zhengyun.data_resources.filtersets import (
    CatalogResourceFilterSet,
    ResourceVersionFilterSet,
)
from zhengyun.data_resources.models import CatalogResource, ResourceVersion


class CatalogResourceViewSet(ServiceModelViewSet):
    """A department's information resources as it drafts them; submitted for review, the
    operator publishes or returns them. Changing a published resource drafts its next
    version; ``items`` given in a change replace all items."""

    model = CatalogResource
    select_related = ("department", "current_version")
    prefetch_related = ("items",)
    serializer_class = serializers.CatalogResourceSerializer
    ordering_fields = ["code", "name", "updated_at"]
    filterset_class = CatalogResourceFilterSet
    create_service = catalog.create_resource
    update_service = catalog.update_resource
    delete_service = catalog.delete_resource

    def _answer(self, resource):
        return Response(self.get_serializer(self.get_queryset().get(pk=resource.pk)).data)

    @extend_schema(request=None, responses=serializers.CatalogResourceSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send the draft to the operator for review."""
        return self._answer(catalog.submit_resource(self.get_object(), actor=request.user))

    @extend_schema(request=None, responses=serializers.CatalogResourceSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Publish the record in review as the resource's next version."""
        return self._answer(catalog.approve_resource(self.get_object(), actor=request.user))

    @extend_schema(
        request=serializers.ReturnSerializer, responses=serializers.CatalogResourceSerializer
    )
    @action(detail=True, methods=["post"], url_path="return")
    def send_back(self, request, pk=None):
        """Send the record in review back to its provider, saying what to mend."""
        resource = self.get_object()
        body = serializers.ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        resource = catalog.return_resource(resource, actor=request.user, **body.validated_data)
        return self._answer(resource)

    @extend_schema(
        request={"multipart/form-data": serializers.DatasetUploadSerializer},
        responses=serializers.ResourceDatasetSerializer,
    )
    @action(detail=True, methods=["post"], url_path="data", parser_classes=[MultiPartParser])
    def load_data(self, request, pk=None):
        """Replace the published resource's data with a CSV (UTF-8 or GBK) or Excel file
        whose first row names its items; the gateway serves it to granted applications."""
        resource = self.get_object()
        body = serializers.DatasetUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        dataset = datasets.load_dataset(
            resource, actor=request.user, name=upload.name, content=upload.read()
        )
        return Response(serializers.ResourceDatasetSerializer(dataset).data)

    @extend_schema(
        request=serializers.UpstreamRegistrationSerializer,
        responses=serializers.ResourceUpstreamSerializer,
    )
    @action(detail=True, methods=["post"], url_path="service")
    def register_service(self, request, pk=None):
        """Serve the published resource's records from the provider's own HTTP service,
        registered with its OpenAPI description (JSON or YAML); replaces data loaded from a
        file. The description names one GET operation answering the records."""
        resource = self.get_object()
        body = serializers.UpstreamRegistrationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upstream = upstreams.register_upstream(
            resource,
            actor=request.user,
            description=body.validated_data["description"],
            credential=body.validated_data["credential"],
        )
        return Response(serializers.ResourceUpstreamSerializer(upstream).data)

    @extend_schema(
        request=serializers.DatabaseRegistrationSerializer,
        responses=serializers.ResourceDatabaseSerializer,
    )
    @action(detail=True, methods=["post"], url_path="database")
    def register_database(self, request, pk=None):
        """Copy the published resource's data from a table of the provider's database —
        PostgreSQL's protocol (PostgreSQL, KingbaseES, openGauss, HighGo) or MySQL's (MySQL,
        MariaDB, OceanBase, TiDB): now, then as often as its update cycle says; replaces a
        loaded file or a registered service."""
        resource = self.get_object()
        body = serializers.DatabaseRegistrationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        source = department_databases.register_database(
            resource, actor=request.user, **body.validated_data
        )
        return Response(serializers.ResourceDatabaseSerializer(source).data)


class ResourceVersionViewSet(RestrictedReadOnlyViewSet):
    """The published catalog: every version of every published resource, the current ones
    with ``is_current=true``; each carries its whole core metadata."""

    model = ResourceVersion
    select_related = ("department", "approved_by")
    serializer_class = serializers.ResourceVersionSerializer
    ordering_fields = ["code", "published_at"]
    filterset_class = ResourceVersionFilterSet

    @extend_schema(
        parameters=[serializers.SearchParamsSerializer],
        responses=serializers.SearchResultsSerializer,
    )
    @action(detail=False, methods=["get"])
    def search(self, request):
        """Full-text search of the current versions, in Chinese or by resource code, with
        facet filters; names and codes that match rank first, and ``facets`` counts each
        facet's values among the matches. Counting stops at 10,000 matches: beyond that
        ``count_exact`` is false and ``count`` says "at least"."""
        params = serializers.SearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        wanted = dict(params.validated_data)
        page, size = wanted.pop("page"), wanted.pop("page_size")
        text = wanted.pop("q", "")
        found = search.search(
            search.SearchQuery(text=text, filters=wanted, offset=(page - 1) * size, limit=size)
        )
        versions = self.get_queryset().in_bulk(found.version_ids)
        ranked = [versions[pk] for pk in found.version_ids if pk in versions]
        return Response(
            {
                "count": found.total,
                "count_exact": found.exact,
                "results": self.get_serializer(ranked, many=True).data,
                "facets": {
                    name: [{"value": value, "count": count} for value, count in values]
                    for name, values in found.facets.items()
                },
            }
        )
