"""A department hears before its HTTPS listeners' certificates expire (R-I3, R-S2): once as
each warning period begins and once when a certificate has expired, never twice, never
another department; a new certificate, replaced in the console, starts afresh."""

import html
import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from zhengyun.audit.models import AuditEvent
from zhengyun.infrastructure import balancers, certificate_expiry, connections
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.certificate_expiry import EXPIRED, period
from zhengyun.infrastructure.models import Listener
from zhengyun.infrastructure.tasks import warn_certificate_expiry_task
from zhengyun.notifications.models import Notification
from zhengyun.testing.tls import issue

pytestmark = pytest.mark.django_db

EXPIRES = timezone.now().replace(microsecond=0) + timedelta(days=60)


@pytest.fixture(autouse=True)
def simulated_balancer(settings):
    settings.ZHENGYUN_BALANCER_DRIVER = "simulator"
    settings.ZHENGYUN_BALANCER_URI = "sim://memory"
    connections._balancer_for.cache_clear()
    yield
    connections._balancer_for.cache_clear()


def https_listener(world, days):
    """Department A's HTTPS listener with a certificate valid for ``days`` from now."""
    network = infrastructure.create_network(
        actor=world.staff_a, department=world.department_a, name="web", reach="gov_extranet"
    )
    subnet = infrastructure.create_subnet(
        actor=world.staff_a, network=network, name="web-1", cidr="10.20.1.0/24"
    )
    balancer = balancers.create_load_balancer(
        actor=world.staff_a, department=world.department_a, name="front", subnet=subnet
    )
    issued = issue("www.example.gov.cn", days=days)
    return balancers.add_listener(
        balancer,
        actor=world.staff_a,
        protocol="https",
        port=443,
        certificate=issued.certificate_pem,
        private_key=issued.key_pem,
    )


@pytest.fixture
def listener(world):
    return https_listener(world, days=60)


def days_before(listener, days):
    return listener.certificate_expires - timedelta(days=days)


def notices(kind=None):
    found = Notification.objects.order_by("pk")
    return list(found.filter(kind=kind) if kind else found)


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        (timedelta(days=31), None),
        (timedelta(days=30), 30),
        (timedelta(days=29, hours=23), 30),
        (timedelta(days=7), 7),
        (timedelta(days=6), 7),
        (timedelta(hours=1), 1),
        (timedelta(0), EXPIRED),
        (-timedelta(days=3), EXPIRED),
    ],
)
def test_each_moment_falls_in_the_period_that_begun_last(before, expected):
    assert period(EXPIRES, EXPIRES - before) == expected


def test_a_department_is_warned_once_as_each_period_begins_and_when_it_expired(world, listener):
    assert certificate_expiry.warn(days_before(listener, 31)) == 0
    assert certificate_expiry.warn(days_before(listener, 20)) == 1
    assert certificate_expiry.warn(days_before(listener, 19)) == 0  # the next hour's run
    staff = {notice.recipient for notice in notices("certificate.expiring")}
    assert world.staff_a in staff and world.admin_a in staff
    assert not staff & {world.staff_b, world.admin_b}  # another department hears nothing
    first = notices()[0]
    assert first.params["days"] == 30 and first.params["balancer"] == "front"
    assert first.link == f"/infrastructure/listeners/{listener.pk}/certificate/"

    assert certificate_expiry.warn(days_before(listener, 3)) == 1  # the 7 days' warning
    assert certificate_expiry.warn(days_before(listener, -1)) == 1
    assert certificate_expiry.warn(days_before(listener, -2)) == 0
    assert [n.params["days"] for n in notices() if n.recipient == world.staff_a] == [30, 7, 0]
    assert notices("certificate.expired")
    assert AuditEvent.objects.filter(action="infrastructure.warn_certificate_expiry").count() == 3


def test_a_certificate_that_skipped_periods_is_warned_of_once_for_the_latest(world, listener):
    assert certificate_expiry.warn(days_before(listener, 0.5)) == 1
    assert {n.params["days"] for n in notices()} == {1}
    assert certificate_expiry.warn(days_before(listener, 0.4)) == 0


def test_a_new_certificate_is_warned_of_afresh(world, listener):
    certificate_expiry.warn(days_before(listener, 5))
    renewed = issue("www.example.gov.cn", days=20)
    balancers.replace_listener_certificate(
        listener,
        actor=world.staff_a,
        certificate=renewed.certificate_pem,
        private_key=renewed.key_pem,
    )
    listener.refresh_from_db()
    assert listener.certificate_warned_days is None
    before = len(notices())
    assert warn_certificate_expiry_task.call_local() == 1  # now: 20 days left
    assert {n.params["days"] for n in notices()[before:]} == {30}


def test_only_https_listeners_are_warned_of(world, listener):
    plain = balancers.add_listener(
        listener.load_balancer, actor=world.staff_a, protocol="http", port=80
    )
    # A stale date on a listener that presents no certificate (made by hand) is no reason.
    Listener.objects.filter(pk=plain.pk).update(certificate_expires=listener.certificate_expires)
    assert certificate_expiry.warn(days_before(listener, 20)) == 1
    assert list(
        Listener.objects.filter(certificate_warned_days__isnull=False).values_list("pk", flat=True)
    ) == [listener.pk]


def test_the_console_replaces_a_certificate_and_never_shows_the_key(world, listener, client):
    client.force_login(world.staff_a)
    page = client.get(f"/infrastructure/listeners/{listener.pk}/certificate/")
    assert page.status_code == 200
    assert "CN=www.example.gov.cn" in page.content.decode()
    listing = client.get("/infrastructure/load-balancers/").content.decode()
    assert f"/infrastructure/listeners/{listener.pk}/certificate/" in listing

    renewed, stranger = issue("www.example.gov.cn", days=400), issue("www.example.gov.cn")
    refused = client.post(
        f"/infrastructure/listeners/{listener.pk}/certificate/",
        {"certificate": renewed.certificate_pem, "private_key": stranger.key_pem},
    )
    assert refused.status_code == 200 and refused.context["form"].errors["private_key"]
    assert "PRIVATE KEY" not in refused.content.decode()
    bundled = client.post(
        f"/infrastructure/listeners/{listener.pk}/certificate/",
        {"certificate": renewed.certificate_pem + renewed.key_pem, "private_key": renewed.key_pem},
    )
    assert bundled.context["form"].errors["certificate"]
    page = html.unescape(bundled.content.decode())
    assert "PRIVATE KEY" not in page  # the key pasted with the chain is not written back
    assert renewed.certificate_pem.strip() in page  # the certificate is, to be corrected
    listener.refresh_from_db()
    assert listener.certificate_expires < timezone.now() + timedelta(days=61)  # unchanged

    replaced = client.post(
        f"/infrastructure/listeners/{listener.pk}/certificate/",
        {"certificate": renewed.certificate_pem, "private_key": renewed.key_pem},
    )
    assert replaced.status_code == 302
    listener.refresh_from_db()
    assert listener.certificate_expires == renewed.certificate.not_valid_after_utc

    client.force_login(world.staff_b)
    assert client.get(f"/infrastructure/listeners/{listener.pk}/certificate/").status_code == 404


def test_the_console_marks_a_certificate_about_to_expire(world, client):
    https_listener(world, days=5)
    client.force_login(world.staff_a)
    listing = client.get("/infrastructure/load-balancers/").content.decode()
    assert "5 天内到期" in listing  # Chinese by default


def test_a_key_stored_with_a_chain_before_it_was_refused_is_removed(listener):
    migration = importlib.import_module(
        "zhengyun.infrastructure.migrations.0031_listener_certificates_only"
    )
    authority = issue("Example CA")
    server = issue(issuer=authority)
    chain = server.certificate_pem + authority.certificate_pem
    Listener.objects.filter(pk=listener.pk).update(certificate=chain + server.key_pem)

    migration.keep_certificates_only(apps, None)
    assert Listener.objects.get(pk=listener.pk).certificate == chain
