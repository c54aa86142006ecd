"""The gateway's tests share a served resource and a caller holding a grant."""

import uuid

import pytest
from django.core.cache import caches

from zhengyun.accounts import services as accounts
from zhengyun.data_resources import datasets, sharing
from zhengyun.testing.catalog import ask, population_csv, published_resource
from zhengyun.testing.gateway import token_for

RECORDS = "/gateway/v1/resources/101001/000001/records"


@pytest.fixture
def served(world, monkeypatch):
    """A's population resource with data; B's application granted 姓名 and 公民身份号码 of
    the three items it asked for."""
    # Each test counts its own calls: fresh test databases hand out the same grant ids,
    # and a cache shared by parallel test processes (Redis) would add them up.
    monkeypatch.setattr(caches["default"], "key_prefix", f"gateway-{uuid.uuid4()}")
    resource = published_resource(world, world.department_a, world.staff_a)
    datasets.load_dataset(resource, actor=world.staff_a, name="人口.csv", content=population_csv())
    client, secret = accounts.register_oidc_client(
        actor=world.admin_b, name="乙区户籍核验系统", grant="client-credentials"
    )
    request = ask(world, resource, client)
    sharing.approve_sharing(request, actor=world.admin_a, items=["姓名", "公民身份号码"])
    request.refresh_from_db()
    return {"resource": resource, "client": client, "secret": secret, "grant": request.grant}


@pytest.fixture
def call(client, served):
    token = token_for(client, served["client"], served["secret"])

    def get(path=RECORDS, **params):
        return client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token}")

    return get


@pytest.fixture
def service(settings):
    """A provider's HTTP service on this machine (``test_upstream_service.Service``)."""
    from zhengyun.gateway.tests.test_upstream_service import Service

    settings.ZHENGYUN_UPSTREAM_ALLOW_LOOPBACK = True
    running = Service()
    yield running
    running.close()
