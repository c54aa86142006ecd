"""Bulk file exchange (R-A4): a granted application takes a resource's whole data as one
CSV file of its granted items, masked, with the file's SM3 digest; its receipt states the
digest it computed and comes back signed by the platform; the provider sees both."""

import csv
import io

import pytest

from zhengyun.audit import keys
from zhengyun.crypto import gm
from zhengyun.data_resources import sharing
from zhengyun.gateway.models import FileExport, GatewayCall
from zhengyun.testing.gateway import token_for

pytestmark = pytest.mark.django_db

EXPORT = "/gateway/v1/resources/101001/000001/export"


def receipt(client, token, export_id, body):
    return client.post(
        f"/gateway/v1/exports/{export_id}/receipt",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


@pytest.fixture
def token(client, served):
    return token_for(client, served["client"], served["secret"])


def test_a_file_of_the_granted_items_comes_masked_with_its_digest_and_a_signed_receipt(
    served, call, client, token, world
):
    taken = call(EXPORT)
    assert taken.status_code == 200 and taken["Content-Type"].startswith("text/csv")
    body = taken.content
    assert taken["X-Zhengyun-SM3"] == gm.sm3(body).hex()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["姓名", "公民身份号码"]  # granted items only
    assert len(rows) == 4 and rows[1][0] == "张*" and rows[1][1].startswith("1101")
    assert "110101199003071234" not in body.decode("utf-8-sig")  # masked as for every call
    export_id = taken["X-Zhengyun-Export"]

    answered = receipt(client, token, export_id, {"sm3": gm.sm3(body).hex().upper()})
    assert answered.status_code == 200, answered.content
    signed = answered.json()
    assert signed["intact"] is True
    public = keys.signing_key().public_key()
    assert gm.sm2_verify(public, bytes.fromhex(signed["signature"]), signed["signed"].encode())
    again = receipt(client, token, export_id, {"sm3": gm.sm3(body).hex()})
    assert again.status_code == 409 and again.json()["code"] == "already_received"

    client.force_login(world.admin_a)  # the provider sees what went out and what arrived
    (shown,) = client.get("/api/v1/gateway/exports/").json()["results"]
    assert (shown["rows"], shown["intact"], shown["items"]) == (3, True, ["姓名", "公民身份号码"])
    operations = set(GatewayCall.objects.values_list("operation", flat=True))
    assert {"export", "receipt"} <= operations


def test_a_damaged_file_is_named_in_its_receipt(served, call, client, token):
    taken = call(EXPORT)
    damaged = gm.sm3(taken.content + b"\n").hex()
    signed = receipt(client, token, taken["X-Zhengyun-Export"], {"sm3": damaged}).json()
    assert signed["intact"] is False
    assert FileExport.objects.get().intact is False


@pytest.mark.parametrize(
    "body",
    [{}, {"sm3": "abc"}, {"sm3": 12}, {"sm3": "g" * 64}, ["sm3"], "not json"],
)
def test_a_malformed_receipt_is_refused_and_changes_nothing(served, call, client, token, body):
    taken = call(EXPORT)
    refused = receipt(client, token, taken["X-Zhengyun-Export"], body)
    assert refused.status_code == 400 and refused.json()["code"] == "bad_request"
    assert FileExport.objects.get().received_at is None


def test_only_the_application_that_took_a_file_gives_its_receipt(served, call, client, world):
    from zhengyun.accounts import services as accounts

    taken = call(EXPORT)
    other, secret = accounts.register_oidc_client(
        actor=world.admin_b, name="乙区另一系统", grant="client-credentials"
    )
    stranger = token_for(client, other, secret)
    refused = receipt(client, stranger, taken["X-Zhengyun-Export"], {"sm3": "0" * 64})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert receipt(client, "", taken["X-Zhengyun-Export"], {"sm3": "0" * 64}).status_code == 401


def test_an_export_follows_the_grant(served, call, world):
    assert call(EXPORT, fields="联系电话").json()["code"] == "item_not_granted"
    assert call(EXPORT, page="2").json()["code"] == "bad_request"
    sharing.revoke_grant(served["grant"], actor=world.admin_a, reason="停止对接。")
    assert call(EXPORT).json()["code"] == "grant_revoked"
    assert FileExport.objects.count() == 0
