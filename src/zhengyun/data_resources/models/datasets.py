"""The data of a resource the gateway serves (R-D3): the rows of the provider's last uploaded
file or copy of its database's table, with where they came from, or the provider's own
service the records are read from."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.crypto.fields import EncryptedTextField


class ResourceDataset(models.Model):
    """The data a published resource serves: the last file its provider loaded (CSV in
    UTF-8 or GBK, or an Excel workbook), checked against the resource's items."""

    resource = models.OneToOneField(
        "data_resources.CatalogResource",
        verbose_name=_("resource"),
        on_delete=models.CASCADE,
        related_name="dataset",
    )
    # The items the file's columns held, in the file's order.
    columns = models.JSONField(_("columns"))
    row_count = models.PositiveIntegerField(_("rows"))
    source_name = models.CharField(_("file"), max_length=200)
    source_format = models.CharField(_("file format"), max_length=8)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    # SM3 of the file as uploaded: the provider can prove which file the data came from.
    digest = models.CharField(_("SM3 digest"), max_length=64)
    loaded_at = models.DateTimeField(_("loaded"))
    loaded_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("loaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedManager()
    scoping = Scoping(
        region_codes=("resource__department__region__code",), department="resource__department"
    )

    class Meta:
        verbose_name = _("resource data")
        verbose_name_plural = _("resource data")

    def __str__(self):
        return f"{self.resource.code}: {self.row_count}"


class ResourceUpstream(models.Model):
    """The provider's own HTTP service a published resource's records are read from on every
    gateway call, instead of a loaded file, with the OpenAPI description it was registered
    with and what the gateway took from it."""

    resource = models.OneToOneField(
        "data_resources.CatalogResource",
        verbose_name=_("resource"),
        on_delete=models.CASCADE,
        related_name="upstream",
    )
    url = models.URLField(_("address"), max_length=500)
    # The answer's property holding the records; empty when the answer is the records.
    records_at = models.CharField(_("records property"), max_length=100, blank=True)
    fields = models.JSONField(_("item properties"))  # item name → the records' property
    # Where the service takes its credential, as its description says; empty when it takes
    # none. The credential itself is kept encrypted and shown to nobody.
    credential_header = models.CharField(_("credential header"), max_length=100, blank=True)
    credential_prefix = models.CharField(_("credential prefix"), max_length=16, blank=True)
    credential = EncryptedTextField(_("credential"), max_length=2000, blank=True)
    description = models.TextField(_("OpenAPI description"))
    digest = models.CharField(_("SM3 digest"), max_length=64)
    registered_at = models.DateTimeField(_("registered"))
    registered_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("registered by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedManager()
    scoping = Scoping(
        region_codes=("resource__department__region__code",), department="resource__department"
    )

    class Meta:
        verbose_name = _("resource service")
        verbose_name_plural = _("resource services")

    def __str__(self):
        return f"{self.resource.code}: {self.url}"


class ResourceDatabase(models.Model):
    """A table of the provider's own database (one speaking PostgreSQL's protocol or
    MySQL's) a published resource's data is copied from: on registering, then as often as
    the resource's update cycle says. The copy is the resource's ``ResourceDataset``."""

    class Protocol(models.TextChoices):
        POSTGRESQL = "postgresql", _("PostgreSQL (also KingbaseES, openGauss, HighGo)")
        MYSQL = "mysql", _("MySQL (also MariaDB, OceanBase, TiDB)")

    resource = models.OneToOneField(
        "data_resources.CatalogResource",
        verbose_name=_("resource"),
        on_delete=models.CASCADE,
        related_name="database",
    )
    protocol = models.CharField(
        _("database protocol"),
        max_length=16,
        choices=Protocol,
        default=Protocol.POSTGRESQL,
    )
    host = models.CharField(_("database host"), max_length=253)
    port = models.PositiveIntegerField(_("port"), default=5432)
    database = models.CharField(_("database"), max_length=63)
    user = models.CharField(_("user"), max_length=63)
    password = EncryptedTextField(_("password"), max_length=200, blank=True)
    table = models.CharField(_("table"), max_length=127)
    columns = models.JSONField(_("item columns"))  # item name → the table's column
    registered_at = models.DateTimeField(_("registered"))
    registered_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("registered by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    synced_at = models.DateTimeField(_("last copied"), null=True)
    tried_at = models.DateTimeField(_("last tried"), null=True)
    last_error = models.CharField(_("last copy failed"), max_length=500, blank=True)

    objects = RestrictedManager()
    scoping = Scoping(
        region_codes=("resource__department__region__code",), department="resource__department"
    )

    class Meta:
        verbose_name = _("resource database")
        verbose_name_plural = _("resource databases")

    def __str__(self):
        return f"{self.resource.code}: {self.host}/{self.database}/{self.table}"


class DatasetRow(models.Model):
    """One record of a resource's data: item name → value."""

    dataset = models.ForeignKey(
        ResourceDataset, verbose_name=_("data"), on_delete=models.CASCADE, related_name="rows"
    )
    number = models.PositiveIntegerField(_("row"))
    values = models.JSONField(_("values"))

    objects = RestrictedManager()
    scoping = Scoping(
        region_codes=("dataset__resource__department__region__code",),
        department="dataset__resource__department",
    )

    class Meta:
        ordering = ["dataset", "number"]
        verbose_name = _("data row")
        verbose_name_plural = _("data rows")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="row_number_per_dataset")
        ]

    def __str__(self):
        return str(self.number)


class ResourceChange(models.Model):
    """A change of a published resource its consumers hear of (R-A4): a new version of its
    metadata, or new data loaded. Its id is the cursor consumers pull changes after; a
    resource's changes are recorded under its row lock, so they commit in id order."""

    class Kind(models.TextChoices):
        VERSION = "version", _("New version")
        DATA = "data", _("New data")

    resource = models.ForeignKey(
        "data_resources.CatalogResource",
        verbose_name=_("resource"),
        on_delete=models.CASCADE,
        related_name="changes",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    version_number = models.PositiveIntegerField(_("version"))
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    digest = models.CharField(_("SM3 digest"), max_length=64, blank=True)
    at = models.DateTimeField(_("changed"))

    objects = RestrictedManager()
    scoping = Scoping(
        region_codes=("resource__department__region__code",), department="resource__department"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("resource change")
        verbose_name_plural = _("resource changes")
        indexes = [models.Index(fields=["resource", "id"])]

    def __str__(self):
        return f"{self.resource_id}#{self.pk} {self.kind}"
