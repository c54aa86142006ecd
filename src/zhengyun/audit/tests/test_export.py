"""Exporting the trail: the audit administrator downloads the selected events as CSV or
JSON with the chain's verification; the export itself is audited; nobody else may."""

import csv
import io
import json

import pytest

from zhengyun.audit import sealer, triggers
from zhengyun.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def body(response):
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_csv_export_carries_every_selected_event_and_the_chain_status(world, client):
    client.force_login(world.auditor)
    response = client.get("/audit/events/export.csv", {"action": "organizations.create_region"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    assert response["X-Audit-Chain"].startswith("intact=true; last-seq=")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [r["object_repr"] for r in rows] == [
        "示范省 (990000)",
        "甲市 (990100)",
        "乙市 (990200)",
        "甲区 (990102)",
        "乙区 (990202)",
    ]
    assert all(len(r["hash"]) == 64 for r in rows)
    assert AuditEvent.objects.filter(action="audit.export_events", actor=world.auditor).exists()


def test_json_export_reports_a_broken_chain(world, client):
    from django.db import connection

    sealer.seal_all()
    first = AuditEvent.objects.order_by("seq").first()
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET detail = 'forged' WHERE id = %s", [first.pk])
    client.force_login(world.auditor)
    document = json.loads(body(client.get("/audit/events/export.json")))
    assert document["verification"]["intact"] is False
    assert "sequence 1" in document["verification"]["first_break"]
    assert document["events"][0]["seq"] == 1 and document["events"][0]["detail"] == "forged"


@pytest.mark.parametrize("person", ["operator", "secadmin", "sysadmin", "admin_a"])
def test_only_audit_administrators_export(world, client, person):
    client.force_login(getattr(world, person))
    assert client.get("/audit/events/export.csv").status_code == 403
    denial = AuditEvent.objects.get(result="denied", actor=getattr(world, person))
    assert denial.action == "audit.auditevent.view"


def test_unknown_formats_are_404(world, client):
    client.force_login(world.auditor)
    assert client.get("/audit/events/export.xml").status_code == 404


def test_an_exported_event_can_be_re_verified_without_the_platform(world, client):
    import datetime

    from zhengyun.audit.chain import event_hash

    client.force_login(world.auditor)
    events = json.loads(body(client.get("/audit/events/export.json")))["events"]
    for event in events[:5]:
        event["occurred_at"] = datetime.datetime.fromisoformat(event["occurred_at"])
        assert event_hash(event) == event["hash"]
    assert events[1]["prev_hash"] == events[0]["hash"]
