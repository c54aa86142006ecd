"""Load balancers a department puts in front of its instances (R-I3): a virtual address
(VIP) in one of its subnets, listeners on ports of that address, each sending to a pool of
members — instances of the department with an address in the same network — checked by a
health monitor.

The VIP is a ``Port`` of the subnet like an instance's address, so the database's one
address per subnet rule keeps instances and load balancers apart. The configuration is
realised by a balancer driver (``drivers/balancer_base``); ``status`` says whether the
driver has applied the latest one, ``operating_status`` what health checks say.
"""

import math
import re
import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.crypto.fields import EncryptedTextField
from zhengyun.infrastructure.choices import (
    BalancerStatus,
    BalancingAlgorithm,
    ListenerProtocol,
    MonitorType,
    OperatingStatus,
)

TCP_PORT = [MinValueValidator(1), MaxValueValidator(65535)]
MAX_WEIGHT = 256
MAX_RETRIES = 10
MAX_INTERVAL_S = 3600
# A path sent in the check request: printable, no spaces (it ends up in the balancer's
# configuration, where a space or newline would change its meaning).
# Only URL characters HAProxy's configuration parser takes literally: no quotes, "$" (it
# expands environment variables), "\\" (escapes) or "#" (comments).
HTTP_PATH = re.compile(r"/[A-Za-z0-9._~!&()*+,;=:@%/?-]{0,254}")
# Expected status codes as in OpenStack Octavia: "200", "200,202" or "200-204".
EXPECTED_CODES = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")


def expected_code_set(text):
    """The status codes ``text`` ("200", "200,202", "200-204") names, or a ValidationError."""
    if not EXPECTED_CODES.match(text or ""):
        raise ValidationError(_('Write codes such as "200", "200,202" or "200-204".'))
    codes = set()
    for part in text.split(","):
        low, _dash, high = part.partition("-")
        low, high = int(low), int(high or low)
        if not 100 <= low <= high <= 599:
            raise ValidationError(_("HTTP status codes run from 100 to 599, low to high."))
        codes.update(range(low, high + 1))
    return sorted(codes)


class LoadBalancer(models.Model):
    """A department's load balancer with its virtual address in one of its subnets."""

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="load_balancers",
    )
    name = models.CharField(_("name"), max_length=63)
    subnet = models.ForeignKey(
        "infrastructure.Subnet",
        verbose_name=_("subnet"),
        on_delete=models.PROTECT,
        related_name="load_balancers",
    )
    vip = models.GenericIPAddressField(_("virtual address"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=BalancerStatus.choices, default=BalancerStatus.PENDING
    )
    status_detail = models.CharField(_("status detail"), max_length=300, blank=True)
    operating_status = models.CharField(
        _("operating status"),
        max_length=10,
        choices=OperatingStatus.choices,
        default=OperatingStatus.UNKNOWN,
    )
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("load balancer")
        verbose_name_plural = _("load balancers")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="load_balancer_name_per_department"
            )
        ]

    def __str__(self):
        return self.name


class BackendPool(models.Model):
    """The members one listener sends to, and how it chooses among them."""

    load_balancer = models.ForeignKey(
        LoadBalancer,
        verbose_name=_("load balancer"),
        on_delete=models.CASCADE,
        related_name="pools",
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    algorithm = models.CharField(
        _("algorithm"),
        max_length=20,
        choices=BalancingAlgorithm.choices,
        default=BalancingAlgorithm.ROUND_ROBIN,
    )

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["load_balancer", "pk"]
        verbose_name = _("backend pool")
        verbose_name_plural = _("backend pools")

    def __str__(self):
        listener = getattr(self, "listener", None)
        return f"{self.load_balancer} {listener}" if listener else f"{self.load_balancer}"


class Listener(models.Model):
    """A port of the load balancer's address, balanced over its pool; an HTTPS listener
    ends TLS with its certificate."""

    load_balancer = models.ForeignKey(
        LoadBalancer,
        verbose_name=_("load balancer"),
        on_delete=models.CASCADE,
        related_name="listeners",
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    protocol = models.CharField(_("protocol"), max_length=5, choices=ListenerProtocol.choices)
    port = models.PositiveIntegerField(_("port"), validators=TCP_PORT)
    pool = models.OneToOneField(
        BackendPool, verbose_name=_("pool"), on_delete=models.CASCADE, related_name="listener"
    )
    # HTTPS only (``tls_certificates``): the chain presented, its key, what it names and
    # until when.
    certificate = models.TextField(_("certificate"), blank=True)
    private_key = EncryptedTextField(_("private key"), blank=True)
    certificate_subject = models.CharField(_("certificate subject"), max_length=300, blank=True)
    certificate_expires = models.DateTimeField(_("certificate expires"), null=True, blank=True)
    # The last period before expiry the department was warned of (``certificate_expiry``).
    certificate_warned_days = models.PositiveSmallIntegerField(
        _("expiry warned, days before"), null=True, blank=True, editable=False
    )

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["load_balancer", "port"]
        verbose_name = _("listener")
        verbose_name_plural = _("listeners")
        constraints = [
            models.UniqueConstraint(
                fields=["load_balancer", "port"], name="listener_port_per_load_balancer"
            ),
            models.CheckConstraint(
                condition=models.Q(port__gte=1, port__lte=65535), name="listener_port_range"
            ),
        ]

    def __str__(self):
        return f"{self.get_protocol_display()}:{self.port}"

    def certificate_days_left(self, now=None):
        """Days until the certificate expires, a part of a day counted whole; 0 or less
        once it has expired; ``None`` without a certificate."""
        if self.certificate_expires is None:
            return None
        return math.ceil((self.certificate_expires - (now or timezone.now())) / timedelta(days=1))


class Member(models.Model):
    """An instance taking a pool's traffic on one of its ports, at its address in the load
    balancer's network."""

    pool = models.ForeignKey(
        BackendPool, verbose_name=_("pool"), on_delete=models.CASCADE, related_name="members"
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    instance = models.ForeignKey(
        "infrastructure.Instance",
        verbose_name=_("instance"),
        on_delete=models.PROTECT,
        related_name="pool_memberships",
    )
    address = models.GenericIPAddressField(_("address"))
    port = models.PositiveIntegerField(_("port"), validators=TCP_PORT)
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_WEIGHT)]
    )
    operating_status = models.CharField(
        _("operating status"),
        max_length=10,
        choices=OperatingStatus.choices,
        default=OperatingStatus.UNKNOWN,
    )

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["pool", "pk"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "instance", "port"], name="member_once_per_pool"
            ),
            models.CheckConstraint(
                condition=models.Q(weight__gte=1, weight__lte=MAX_WEIGHT),
                name="member_weight_range",
            ),
        ]

    def __str__(self):
        return f"{self.instance} {self.address}:{self.port}"

    @property
    def driver_name(self):
        """The member's name in the balancer's configuration."""
        return f"m{self.pk}"


class HealthMonitor(models.Model):
    """How often and how a pool's members are checked; a member failing ``max_retries``
    checks in a row takes no traffic until it passes as many again."""

    pool = models.OneToOneField(
        BackendPool,
        verbose_name=_("pool"),
        on_delete=models.CASCADE,
        related_name="health_monitor",
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    type = models.CharField(_("check"), max_length=4, choices=MonitorType.choices)
    interval_s = models.PositiveIntegerField(
        _("interval (s)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL_S)],
    )
    timeout_s = models.PositiveIntegerField(
        _("timeout (s)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL_S)],
    )
    max_retries = models.PositiveSmallIntegerField(
        _("retries"), default=3, validators=[MinValueValidator(1), MaxValueValidator(MAX_RETRIES)]
    )
    http_path = models.CharField(_("HTTP path"), max_length=255, default="/")
    expected_codes = models.CharField(_("expected status codes"), max_length=64, default="200")

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["pool"]
        verbose_name = _("health monitor")
        verbose_name_plural = _("health monitors")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(timeout_s__lte=models.F("interval_s")),
                name="monitor_timeout_within_interval",
            ),
            models.CheckConstraint(
                condition=models.Q(max_retries__gte=1, max_retries__lte=MAX_RETRIES),
                name="monitor_retries_range",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} / {self.interval_s}s"

    def clean(self):
        errors = {}
        if self.timeout_s and self.interval_s and self.timeout_s > self.interval_s:
            errors["timeout_s"] = _("The timeout may not be longer than the interval.")
        if not HTTP_PATH.fullmatch(self.http_path or ""):
            errors["http_path"] = _("A path starting with /, without spaces.")
        try:
            expected_code_set(self.expected_codes)
        except ValidationError as exc:
            errors["expected_codes"] = exc.messages
        if errors:
            raise ValidationError(errors)
