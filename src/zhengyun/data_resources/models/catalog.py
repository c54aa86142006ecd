"""The government information resource catalog (R-D1, R-A4): what each department holds,
described with the national core metadata, reviewed by the operator and published in
versions that every department can find."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.data_resources import codes
from zhengyun.data_resources.choices import (
    FIXED_LENGTH_TYPES,
    CatalogType,
    DataType,
    Masking,
    ResourceFormat,
    ResourceStatus,
    Sensitivity,
    ShareMethod,
    ShareType,
    UpdateCycle,
)

MAX_RELATED_CODES = 50
MAX_ITEM_LENGTH = 100_000


class CatalogResource(models.Model):
    """A department's information resource as its provider edits it: a draft, a record in
    review, or the working copy of a published resource (whose published versions are what
    others see)."""

    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("provider department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    catalog_type = models.CharField(_("catalog type (类)"), max_length=1, choices=CatalogType)
    subject_code = models.CharField(_("项 code"), max_length=2)
    category_code = models.CharField(_("目 code"), max_length=3)
    detail_code = models.CharField(_("细目 code"), max_length=codes.MAX_DETAIL_DIGITS, blank=True)
    # The guide's resource code: classification code / sequence within it, given once.
    code = models.CharField(_("resource code"), max_length=32, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    abstract = models.TextField(_("abstract"), max_length=2000)
    format = models.CharField(_("format"), max_length=20, choices=ResourceFormat)
    format_detail = models.CharField(
        _("format detail"), max_length=100, blank=True, help_text=_("For example xlsx, OFD.")
    )
    share_type = models.CharField(_("share type"), max_length=16, choices=ShareType)
    share_conditions = models.TextField(_("share conditions"), max_length=2000, blank=True)
    share_methods = models.JSONField(_("share methods"), default=list, blank=True)
    legal_basis = models.TextField(_("legal basis for not sharing"), max_length=2000, blank=True)
    open_to_public = models.BooleanField(_("open to the public"), default=False)
    open_conditions = models.TextField(_("opening conditions"), max_length=2000, blank=True)
    update_cycle = models.CharField(_("update cycle"), max_length=16, choices=UpdateCycle)
    related_codes = models.JSONField(_("related resource codes"), default=list, blank=True)
    maintainer = models.CharField(_("maintainer"), max_length=50)
    maintainer_phone = models.CharField(_("maintainer's telephone"), max_length=30)
    status = models.CharField(
        _("status"), max_length=16, choices=ResourceStatus, default=ResourceStatus.DRAFT
    )
    # Why the reviewer last sent the record back; cleared when it is published.
    review_comment = models.TextField(_("review comment"), blank=True, editable=False)
    current_version = models.ForeignKey(
        "data_resources.ResourceVersion",
        verbose_name=_("published version"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        null=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["code"]
        verbose_name = _("information resource")
        verbose_name_plural = _("information resources")

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def classification_code(self):
        return codes.classification(
            self.catalog_type, self.subject_code, self.category_code, self.detail_code
        )

    def clean(self):
        errors = codes.part_errors(
            self.catalog_type, self.subject_code, self.category_code, self.detail_code
        )
        methods = self.share_methods
        if not isinstance(methods, list) or any(m not in ShareMethod.values for m in methods):
            errors["share_methods"] = _("Choose share methods among %(methods)s.") % {
                "methods": ", ".join(ShareMethod.values)
            }
        elif len(set(methods)) != len(methods):
            errors["share_methods"] = _("Each share method once.")
        if self.share_type == ShareType.NONE:
            if not self.legal_basis.strip():
                errors["legal_basis"] = _(
                    "A resource that is not shared needs the law or policy that withholds it."
                )
            if methods:
                errors["share_methods"] = _("A resource that is not shared has no share method.")
            if self.open_to_public:
                errors["open_to_public"] = _(
                    "A resource that is not shared cannot be open to the public."
                )
        elif not methods and "share_methods" not in errors:
            errors["share_methods"] = _("Say how the resource is shared.")
        if self.share_type == ShareType.CONDITIONAL and not self.share_conditions.strip():
            errors["share_conditions"] = _("A conditional resource needs its share conditions.")
        related = self.related_codes
        if not isinstance(related, list) or len(related) > MAX_RELATED_CODES:
            errors["related_codes"] = _("At most %(count)d related resource codes.") % {
                "count": MAX_RELATED_CODES
            }
        else:
            wrong = [str(c) for c in related if not codes.is_resource_code(c)]
            if wrong:
                errors["related_codes"] = _(
                    "Not resource codes (such as 101001/000001): %(codes)s"
                ) % {"codes": ", ".join(wrong[:5])}
            elif self.code and self.code in related:
                errors["related_codes"] = _("A resource is not related to itself.")
        if errors:
            raise ValidationError(errors)


class InformationItem(models.Model):
    """One information item (信息项) of a resource: a column or field its data carries,
    with its own sensitivity, share type and masking."""

    resource = models.ForeignKey(
        CatalogResource,
        verbose_name=_("resource"),
        on_delete=models.CASCADE,
        related_name="items",
    )
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=100)
    data_type = models.CharField(_("data type"), max_length=1, choices=DataType)
    length = models.PositiveIntegerField(_("length"), null=True, blank=True)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=16, choices=Sensitivity, default=Sensitivity.ORDINARY
    )
    share_type = models.CharField(_("share type"), max_length=16, choices=ShareType)
    legal_basis = models.TextField(_("legal basis for not sharing"), max_length=2000, blank=True)
    masking = models.CharField(_("masking"), max_length=16, choices=Masking, default=Masking.NONE)

    objects = RestrictedManager()
    scoping = Scoping(
        region_codes=("resource__department__region__code",), department="resource__department"
    )

    class Meta:
        ordering = ["resource", "position"]
        verbose_name = _("information item")
        verbose_name_plural = _("information items")
        constraints = [
            models.UniqueConstraint(fields=["resource", "name"], name="item_name_per_resource"),
            models.UniqueConstraint(
                fields=["resource", "position"], name="item_position_per_resource"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.data_type in FIXED_LENGTH_TYPES:
            self.length = None
        elif not self.length or self.length > MAX_ITEM_LENGTH:
            errors["length"] = _("Give the item's length, from 1 to %(most)d.") % {
                "most": MAX_ITEM_LENGTH
            }
        if self.share_type == ShareType.NONE and not self.legal_basis.strip():
            errors["legal_basis"] = _(
                "An item that is not shared needs the law or policy that withholds it."
            )
        if errors:
            raise ValidationError(errors)


class ResourceVersion(models.Model):
    """A published state of a resource, kept unchanged: what every department finds in the
    catalog. A published change adds the next version; the newest is current."""

    resource = models.ForeignKey(
        CatalogResource,
        verbose_name=_("resource"),
        on_delete=models.PROTECT,
        related_name="versions",
    )
    number = models.PositiveIntegerField(_("version"))
    is_current = models.BooleanField(_("current"), default=True)
    # What the catalog lists and filters by, copied from the metadata below.
    code = models.CharField(_("resource code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("provider department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    catalog_type = models.CharField(_("catalog type (类)"), max_length=1, choices=CatalogType)
    share_type = models.CharField(_("share type"), max_length=16, choices=ShareType)
    format = models.CharField(_("format"), max_length=20, choices=ResourceFormat)
    update_cycle = models.CharField(_("update cycle"), max_length=16, choices=UpdateCycle)
    open_to_public = models.BooleanField(_("open to the public"), default=False)
    # The whole core metadata with its items, as published.
    metadata = models.JSONField(_("metadata"))
    published_on = models.DateField(_("publication date"))
    published_at = models.DateTimeField(_("published"))
    approved_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("approved by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedManager()
    # Published metadata is for every department to find (R-D1, R-D2).
    scoping = Scoping(shared=True)

    class Meta:
        ordering = ["code", "-number"]
        verbose_name = _("published resource version")
        verbose_name_plural = _("published resource versions")
        constraints = [
            models.UniqueConstraint(fields=["resource", "number"], name="version_per_resource"),
            models.UniqueConstraint(
                fields=["resource"],
                condition=models.Q(is_current=True),
                name="one_current_version_per_resource",
            ),
        ]
        indexes = [models.Index(fields=["is_current", "code"])]

    def __str__(self):
        return f"{self.code} {self.name} v{self.number}"


class SearchDocument(models.Model):
    """The search index's entry for the current version of a published resource: its words
    segmented (jieba) for full-text matching, and the figures the catalog is faceted by.
    The full-text index itself lives beside it in the database: an FTS5 table on SQLite,
    a generated ``tsvector`` column on PostgreSQL (``search``)."""

    version = models.OneToOneField(
        ResourceVersion,
        primary_key=True,
        verbose_name=_("version"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    resource_id = models.BigIntegerField(_("resource"), unique=True)
    code = models.CharField(_("resource code"), max_length=32)
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("provider department"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    region_code = models.CharField(_("region"), max_length=12)
    catalog_type = models.CharField(_("catalog type (类)"), max_length=1)
    # 类 and 项 together, such as "101" (base resources, population).
    classification = models.CharField(_("classification"), max_length=3)
    share_type = models.CharField(_("share type"), max_length=16)
    format = models.CharField(_("format"), max_length=20)
    update_cycle = models.CharField(_("update cycle"), max_length=16)
    # Open to the public (and so shared): found by anyone through the CKAN-compatible API.
    open_to_public = models.BooleanField(_("open to the public"), default=False)
    title_terms = models.TextField(_("title terms"))
    code_terms = models.CharField(_("code terms"), max_length=64)
    body_terms = models.TextField(_("body terms"))

    objects = RestrictedManager()
    scoping = Scoping(shared=True)

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        indexes = [
            # A match found in the full-text index reads its facets from this index alone.
            models.Index(
                fields=[
                    "version",
                    "department",
                    "classification",
                    "share_type",
                    "format",
                    "region_code",
                    "update_cycle",
                ],
                name="search_document_facets",
            ),
            models.Index(fields=["code"]),
            # The open catalog newest first, without reading the rest.
            models.Index(fields=["open_to_public", "version"], name="search_document_open"),
            models.Index(fields=["share_type"]),
            models.Index(fields=["classification"]),
            models.Index(fields=["region_code"]),
        ]

    def __str__(self):
        return self.code
