"""A provider's service that asks for a credential (R-D3): its OpenAPI description says how
(an API key in a header, or an HTTP bearer token), the provider gives it when registering,
and the gateway sends it on every call. It is kept encrypted and never shown again; what
the gateway cannot send, or a credential that does not go with the description, is refused
and changes nothing."""

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.db import connection

from zhengyun.audit.models import AuditEvent
from zhengyun.data_resources import upstreams
from zhengyun.data_resources.models import ResourceUpstream
from zhengyun.gateway.tests.test_upstream_service import Service, description

pytestmark = pytest.mark.django_db

API_KEY = {"type": "apiKey", "in": "header", "name": "X-Api-Key"}
BEARER = {"type": "http", "scheme": "bearer"}


def secured(url, scheme, *, on_operation=False):
    document = description(url)
    document["components"]["securitySchemes"] = {"key": scheme}
    requirement = [{"key": []}]
    if on_operation:
        document["paths"]["/people"]["get"]["security"] = requirement
    else:
        document["security"] = requirement
    return yaml.safe_dump(document, allow_unicode=True)


def register(served, world, text, credential=""):
    return upstreams.register_upstream(
        served["resource"], actor=world.staff_a, description=text, credential=credential
    )


def refusal(served, world, text, credential=""):
    with pytest.raises(ValidationError) as refused:
        register(served, world, text, credential)
    assert not ResourceUpstream.objects.exists()
    return refused.value.message_dict


def test_an_api_key_is_sent_in_its_header_and_kept_encrypted(served, service, call, world):
    service.required = ("X-Api-Key", "k-7f3a9c")
    registered = register(served, world, secured(service.url, API_KEY), "k-7f3a9c")

    answer = call(page_size=2)

    assert answer.status_code == 200, answer.content
    assert [r["姓名"] for r in answer.json()["records"]] == ["张**", "李*"]
    assert service.seen[-1]["X-Api-Key"] == "k-7f3a9c"
    assert registered.credential_header == "X-Api-Key"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT credential FROM {ResourceUpstream._meta.db_table}"  # noqa: S608
        )
        [(stored,)] = cursor.fetchall()
    assert "k-7f3a9c" not in stored
    assert not AuditEvent.objects.filter(detail__contains="k-7f3a9c").exists()


def test_a_bearer_token_is_sent_as_authorization(served, service, call, world):
    service.required = ("Authorization", "Bearer t.0K3n")
    register(served, world, secured(service.url, BEARER, on_operation=True), "t.0K3n")

    assert call().status_code == 200
    assert service.seen[-1]["Authorization"] == "Bearer t.0K3n"


def test_registering_again_without_the_credential_keeps_it(served, service, call, world):
    service.required = ("X-Api-Key", "first")
    register(served, world, secured(service.url, API_KEY), "first")

    again = register(served, world, secured(service.url, API_KEY))

    assert again.credential == "first"
    assert call().status_code == 200


def test_a_bearer_token_pasted_with_its_scheme_is_sent_once(served, service, call, world):
    service.required = ("Authorization", "Bearer t.0K3n")
    register(served, world, secured(service.url, BEARER), "bearer t.0K3n")

    assert call().status_code == 200


def test_the_kept_credential_is_never_sent_to_another_place(served, service, world):
    service.required = ("X-Api-Key", "first")
    register(served, world, secured(service.url, API_KEY), "first")
    elsewhere = Service()
    try:
        with pytest.raises(ValidationError) as refused:
            register(served, world, secured(elsewhere.url, API_KEY))
        assert "X-Api-Key" in refused.value.message_dict["credential"][0]
        assert elsewhere.calls == 0
        bearer = secured(service.url, BEARER)  # the same place, taken another way
        with pytest.raises(ValidationError):
            register(served, world, bearer)
    finally:
        elsewhere.close()
    kept = ResourceUpstream.objects.get()
    assert (kept.url, kept.credential) == (service.url + "/people", "first")


def test_a_security_requirement_that_may_be_left_out_takes_no_credential(
    served, service, call, world
):
    document = yaml.safe_load(secured(service.url, API_KEY))
    document["security"].append({})  # the service also answers anyone

    registered = register(served, world, yaml.safe_dump(document, allow_unicode=True))

    assert registered.credential_header == ""
    assert "X-Api-Key" not in service.seen[-1]


def test_a_credential_missing_wrong_or_not_described_is_refused(served, service, world):
    service.required = ("X-Api-Key", "right")
    text = secured(service.url, API_KEY)

    assert "X-Api-Key" in refusal(served, world, text)["credential"][0]
    assert "401" in refusal(served, world, text, "wrong")["credential"][0]
    for unsendable in ("two\nlines", "x" * 2001, "密钥", "zy1:looks-encrypted"):
        assert "凭据" in refusal(served, world, text, unsendable)["credential"][0]
    plain = yaml.safe_dump(description(service.url), allow_unicode=True)
    assert "securitySchemes" in refusal(served, world, plain, "unasked")["credential"][0]


@pytest.mark.parametrize(
    "scheme",
    [
        {"type": "apiKey", "in": "query", "name": "key"},
        {"type": "apiKey", "in": "cookie", "name": "key"},
        {"type": "http", "scheme": "basic"},
        {"type": "oauth2", "flows": {}},
        {"type": "apiKey", "in": "header", "name": "Host"},
        {"type": "apiKey", "in": "header", "name": "X Key:"},
        "not a scheme",
    ],
)
def test_a_credential_the_gateway_cannot_send_is_refused(served, service, world, scheme):
    said = refusal(served, world, secured(service.url, scheme), "k")

    assert said["description"]


def test_the_api_takes_the_credential_and_never_answers_it(served, service, world, api_as):
    service.required = ("X-Api-Key", "k-api")
    path = f"/api/v1/data/resources/{served['resource'].pk}/service/"
    text = secured(service.url, API_KEY)

    missing = api_as(world.staff_a).post(path, {"description": text}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "credential"

    answer = api_as(world.staff_a).post(
        path, {"description": text, "credential": "k-api"}, format="json"
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["credential_header"] == "X-Api-Key"
    assert "k-api" not in answer.content.decode()
