"""Patterns in the trail raise alerts for the audit administrators (GB/T 22239 level 3
安全审计: 发现异常及时报警; R-X4)."""

import pytest
from django.test import Client, override_settings

from zhengyun.accounts import services as accounts
from zhengyun.audit import alerts
from zhengyun.audit.models import AuditAlert, AuditEvent
from zhengyun.core.exceptions import PermissionDenied

pytestmark = pytest.mark.django_db


def deny(person, times):
    for _ in range(times):
        with pytest.raises(PermissionDenied):
            accounts.reset_password(person.__class__.objects.get(username="admin_b"),
                                    actor=person, new_password="Issued-pass-55")  # fmt: skip


def test_repeated_denials_by_one_person_raise_one_alert_that_grows(world):
    deny(world.staff_a, 4)
    assert alerts.check() == []
    deny(world.staff_a, 1)
    (alert,) = alerts.check()
    assert (alert.pattern, alert.subject, alert.count) == ("repeated_denials", "staff_a", 5)
    deny(world.staff_a, 2)
    alerts.check()
    assert AuditAlert.objects.get().count == 7  # the same alert, extended


def test_failed_sign_ins_from_one_address_and_locks_raise_alerts(world):
    for n in range(10):
        Client().post(
            "/sign-in/", {"username": f"guess{n}", "password": "x"}, REMOTE_ADDR="10.6.6.6"
        )
    raised = {(a.pattern, a.subject) for a in alerts.check()}
    assert ("failed_sign_ins", "10.6.6.6") in raised
    assert any(pattern == "account_locked" for pattern, _ in raised) is False
    for _ in range(5):
        Client().post("/sign-in/", {"username": "staff_a", "password": "x"})
    raised = {(a.pattern, a.subject) for a in alerts.check()}
    assert any(p == "account_locked" and "staff_a" in s for p, s in raised)


@override_settings(
    ZHENGYUN_AUDIT_ALERTS=[
        {"name": "exports", "action": "audit.export_events", "by": "actor_label",
         "threshold": 2, "minutes": 60}
    ]
)  # fmt: skip
def test_patterns_are_configurable(world, client):
    client.force_login(world.auditor)
    for _ in range(2):
        client.get("/audit/events/export.csv")
    (alert,) = alerts.check()
    assert (alert.pattern, alert.subject, alert.count) == ("exports", "auditor", 2)


def test_the_auditor_sees_and_acknowledges_alerts_and_others_cannot(world, api_as, client):
    deny(world.staff_a, 5)
    alerts.check()
    alert = AuditAlert.objects.get()
    for person in (world.secadmin, world.sysadmin, world.operator, world.admin_a):
        assert api_as(person).get("/api/v1/audit/alerts/").json()["count"] == 0
        assert (
            api_as(person).post(f"/api/v1/audit/alerts/{alert.pk}/acknowledge/").status_code == 404
        )
    api = api_as(world.auditor)
    assert api.get("/api/v1/audit/alerts/").json()["results"][0]["subject"] == "staff_a"
    client.force_login(world.auditor)
    page = client.get("/audit/alerts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "repeated_denials" in page and "Acknowledge" in page
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Open audit alerts" in home
    client.post(f"/audit/alerts/{alert.pk}/acknowledge/")
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.auditor
    assert AuditEvent.objects.filter(action="audit.acknowledge_alert", actor=world.auditor)
    # Denials going on after acknowledgement raise a new alert.
    deny(world.staff_a, 1)
    alerts.check()
    assert AuditAlert.objects.filter(acknowledged_at__isnull=True).count() == 1


def test_a_pattern_grouping_by_an_unknown_field_is_refused(world):
    with (
        override_settings(
            ZHENGYUN_AUDIT_ALERTS=[{"name": "x", "by": "hash", "threshold": 1, "minutes": 1}]
        ),
        pytest.raises(ValueError, match="cannot group by hash"),
    ):
        alerts.check()
