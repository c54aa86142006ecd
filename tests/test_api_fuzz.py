"""Fuzz every operation of the OpenAPI document: no input, however odd, gives a 500
(design rule 7). Requests are made as a platform operator, who may call every endpoint."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from zhengyun.accounts import services as accounts
from zhengyun.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def operator_token(world):
    return accounts.create_api_token(actor=world.operator, name="fuzz", scope="write")[1]


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Calls go straight to the WSGI app, not through Django's test client, so do what the
    client does: keep the request cycle from closing the test's open transaction."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_input_gives_a_server_error(case, operator_token):
    response = case.call(headers={"Authorization": f"Bearer {operator_token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    headers = {name.lower(): value for name, value in response.headers.items()}
    if response.status_code >= 400 and case.method != "HEAD":
        content_type = headers["content-type"]
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), content_type
