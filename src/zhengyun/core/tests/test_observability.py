"""Health, readiness, Prometheus metrics and JSON logs with the request id."""

import json
import logging

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_database_and_queue(client):
    body = client.get("/readyz").json()
    assert body == {"status": "ok", "checks": {"database": "ok", "queue": "ok"}}


def test_readyz_reports_an_unreachable_queue(client, monkeypatch):
    from huey.contrib.djhuey import HUEY

    def down():
        raise ConnectionError("queue down")

    monkeypatch.setattr(HUEY.storage, "queue_size", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "queue": "unavailable"}


def test_readyz_reports_an_unreachable_database(client, monkeypatch):
    def broken(*args, **kwargs):
        raise connection.Database.OperationalError("database down")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"


def test_metrics_count_requests_by_view_and_status_and_jobs(client):
    from zhengyun.jobs.services import finish_run, start_run

    finish_run(start_run("zhengyun.example"), failed=True, result="boom")
    client.get("/healthz")
    client.get("/api/v1/organizations/departments/")
    text = client.get("/metrics").content.decode()
    assert 'zhengyun_http_requests_total{method="GET",status="200",view="healthz"}' in text
    assert 'status="401",view="api:department-list"' in text
    assert "zhengyun_http_request_duration_seconds_bucket" in text
    assert 'zhengyun_jobs_runs{status="failed",task="zhengyun.example"} 1.0' in text


def test_log_lines_are_json_with_the_request_id(client, caplog):
    from zhengyun.logging_config import logging_settings

    formatter_config = logging_settings("INFO")["formatters"]["json"]
    formatter = formatter_config["()"](
        processors=formatter_config["processors"],
        foreign_pre_chain=formatter_config["foreign_pre_chain"],
    )
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/api/v1/organizations/departments/", HTTP_X_REQUEST_ID="trace-abcdef12")
    record = next(r for r in caplog.records if r.name == "django.request")
    line = json.loads(formatter.format(record))
    assert line["request_id"] == "trace-abcdef12"
    assert line["level"] == "warning"
