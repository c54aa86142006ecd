"""What the catalog's API reads and takes: a department's records with their items, and the
published versions every department finds."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from zhengyun.data_resources.catalog import ITEM_FIELDS, MAX_ITEMS, RESOURCE_FIELDS
from zhengyun.data_resources.choices import ResourceFormat, ShareMethod, ShareType, UpdateCycle
from zhengyun.data_resources.models import (
    MAX_RELATED_CODES,
    CatalogResource,
    InformationItem,
    ResourceDatabase,
    ResourceDataset,
    ResourceUpstream,
    ResourceVersion,
)
from zhengyun.data_resources.search.base import MAX_PAGE_SIZE
from zhengyun.organizations.api.serializers import RestrictedRelatedField, own_department
from zhengyun.organizations.models import Department


class InformationItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = InformationItem
        fields = ["position", *ITEM_FIELDS]
        read_only_fields = ["position"]


class CatalogResourceSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(
        Department, required=False, help_text=_("Defaults to your own department.")
    )
    share_methods = serializers.ListField(
        child=serializers.ChoiceField(ShareMethod.choices), max_length=len(ShareMethod)
    )
    related_codes = serializers.ListField(
        child=serializers.CharField(max_length=32),
        max_length=MAX_RELATED_CODES,
        required=False,
        help_text=_("Codes of related resources, such as 101001/000001."),
    )
    items = InformationItemSerializer(many=True, max_length=MAX_ITEMS)
    current_version = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = CatalogResource
        fields = [
            "id",
            "department",
            "code",
            *RESOURCE_FIELDS,
            "items",
            "status",
            "review_comment",
            "current_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["code", "status", "review_comment", "created_at", "updated_at"]
        validators = []  # the service says what clashes

    def validate(self, attrs):
        if "items" in attrs:
            attrs["items"] = [dict(item) for item in attrs["items"]]
        if self.instance is not None:
            attrs.pop("department", None)  # a record stays with its provider
            return attrs
        return own_department(
            attrs, self.context["request"], _("Say which department provides the resource.")
        )


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class DatasetUploadSerializer(serializers.Serializer):
    file = serializers.FileField(max_length=200, help_text=_(".csv (UTF-8 or GBK) or .xlsx"))


class ResourceDatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResourceDataset
        fields = [
            "resource",
            "columns",
            "row_count",
            "source_name",
            "source_format",
            "encoding",
            "digest",
            "loaded_at",
        ]
        read_only_fields = fields


class UpstreamRegistrationSerializer(serializers.Serializer):
    description = serializers.CharField(
        trim_whitespace=False,
        help_text=_("The service's OpenAPI 3 description, JSON or YAML"),
    )
    credential = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        write_only=True,
        max_length=2000,
        help_text=_(
            "The API key or bearer token the description's security asks for; "
            "left out, the one given before is kept"
        ),
    )


class ResourceUpstreamSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResourceUpstream
        fields = [
            "resource",
            "url",
            "records_at",
            "fields",
            "credential_header",
            "digest",
            "registered_at",
        ]
        read_only_fields = fields


class DatabaseRegistrationSerializer(serializers.Serializer):
    protocol = serializers.ChoiceField(
        choices=ResourceDatabase.Protocol.choices, default=ResourceDatabase.Protocol.POSTGRESQL
    )
    host = serializers.CharField(max_length=253)
    port = serializers.IntegerField(
        min_value=1,
        max_value=65535,
        required=False,
        default=None,
        allow_null=True,
        help_text=_("by default 5432 for PostgreSQL, 3306 for MySQL"),
    )
    database = serializers.CharField(max_length=63)
    user = serializers.CharField(max_length=63, help_text=_("A read-only account"))
    password = serializers.CharField(max_length=200, trim_whitespace=False, write_only=True)
    table = serializers.CharField(max_length=127, help_text=_("name or schema.name"))
    columns = serializers.DictField(
        child=serializers.CharField(max_length=63),
        required=False,
        default=dict,
        help_text=_("item → column, where a column is not named after its item"),
    )


class ResourceDatabaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResourceDatabase
        fields = [
            "resource",
            "protocol",
            "host",
            "port",
            "database",
            "user",
            "table",
            "columns",
            "registered_at",
            "synced_at",
            "last_error",
        ]
        read_only_fields = fields


class ResourceVersionSerializer(serializers.ModelSerializer):
    department = serializers.StringRelatedField()
    approved_by = serializers.StringRelatedField()

    class Meta:
        model = ResourceVersion
        fields = [
            "id",
            "resource",
            "number",
            "is_current",
            "code",
            "name",
            "department",
            "catalog_type",
            "share_type",
            "format",
            "update_cycle",
            "open_to_public",
            "published_on",
            "published_at",
            "approved_by",
            "metadata",
        ]


class SearchParamsSerializer(serializers.Serializer):
    """A catalog search: words, facet filters and the page."""

    q = serializers.CharField(max_length=100, required=False, allow_blank=True)
    provider = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    classification = serializers.RegexField(r"^[1-3][0-9]{2}$", required=False)
    share_type = serializers.ChoiceField(ShareType.choices, required=False)
    format = serializers.ChoiceField(ResourceFormat.choices, required=False)
    region = serializers.RegexField(r"^[0-9]{6}$", required=False)
    update_cycle = serializers.ChoiceField(UpdateCycle.choices, required=False)
    page = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=20)


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class SearchResultsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    count_exact = serializers.BooleanField()
    results = ResourceVersionSerializer(many=True)
    facets = serializers.DictField(child=FacetValueSerializer(many=True))
