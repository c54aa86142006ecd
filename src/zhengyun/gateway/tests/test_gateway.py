"""The gateway (R-D3, R-D4): a consumer's application reads the items it was granted, masked
as the metadata declares, with its client-credentials token; every call, refused or not, is
in the SM3-chained, SM2-sealed call log that the provider reads."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from zhengyun.accounts import services as accounts
from zhengyun.data_resources import datasets, sharing
from zhengyun.gateway import calllog
from zhengyun.gateway.models import GatewayCall
from zhengyun.testing.catalog import ask, item, population_csv, resource_fields
from zhengyun.testing.gateway import token_for

pytestmark = pytest.mark.django_db

RECORDS = "/gateway/v1/resources/101001/000001/records"
METADATA = "/gateway/v1/resources/101001/000001/metadata"


def test_the_granted_items_come_back_masked_and_the_call_is_logged(world, served, call):
    answer = call()
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["items"] == ["姓名", "公民身份号码"] and body["count"] == 3
    assert body["records"][:2] == [
        {"姓名": "张*", "公民身份号码": "110101********1234"},
        {"姓名": "欧***", "公民身份号码": "110101********0021"},
    ]
    assert answer["X-Request-Id"] == body["request_id"]
    logged = GatewayCall.objects.get()
    assert (logged.result, logged.status, logged.records) == ("ok", 200, 3)
    assert (logged.consumer, logged.provider) == (world.department_b, world.department_a)
    assert logged.grant == served["grant"] and logged.items == ["姓名", "公民身份号码"]
    # The provider sees who used its data and for what; so does the consumer; nobody else.
    assert GatewayCall.objects.restrict(world.admin_a).get() == logged
    assert GatewayCall.objects.restrict(world.staff_b).get() == logged
    assert logged.grant.purpose.startswith("户籍迁入")


def test_a_filter_on_an_unmasked_item_finds_one_record_and_pages_are_bounded(
    world, client, served, call
):
    paged = call(page="2", page_size="2").json()
    assert [r["公民身份号码"] for r in paged["records"]] == ["110101********003X"]
    masked = call(filter="公民身份号码:110101198512120021")
    assert masked.status_code == 400 and "公民身份号码" in masked.json()["title"]
    births, secret = accounts.register_oidc_client(
        actor=world.admin_b, name="乙区出生核对系统", grant="client-credentials"
    )
    asked = ask(world, served["resource"], births, items=["姓名", "出生日期"])
    sharing.approve_sharing(asked, actor=world.admin_a)
    token = token_for(client, births, secret)
    found = client.get(
        RECORDS, {"filter": "出生日期:1985-12-12"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    assert (found["count"], found["records"]) == (1, [{"姓名": "欧***", "出生日期": "1985-12-12"}])


def test_pages_read_with_the_lookup_keep_the_file_s_order(world, served, call):
    """The page is read in the statement that finds the call's grant (SQLite hands its rows
    back in no set order), so it is checked against the file, records 10 and on included."""
    rows = [
        (f"居民{n}", f"11010119900307{n:04d}", "13800000000", "示范省", "1990-03-07")
        for n in range(1, 26)
    ]
    datasets.load_dataset(
        served["resource"], actor=world.staff_a, name="人口.csv", content=population_csv(rows=rows)
    )
    pages = [call(page=str(n), page_size="10").json() for n in (1, 2, 3, 4)]
    assert [page["count"] for page in pages] == [25] * 4
    read = [record["公民身份号码"] for page in pages for record in page["records"]]
    assert read == [f"110101********{n:04d}" for n in range(1, 26)]
    assert [len(page["records"]) for page in pages] == [10, 10, 5, 0]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"fields": "联系电话"}, 403, "item_not_granted"),
        ({"filter": "住址:示范省"}, 403, "item_not_granted"),
        ({"fields": "婚姻状况"}, 400, "bad_request"),
        ({"page_size": "1000"}, 400, "bad_request"),
        ({"page": "0"}, 400, "bad_request"),
        ({"page": "３"}, 400, "bad_request"),
        ({"page": "0" * 5000 + "1"}, 400, "bad_request"),
        ({"fields": "出生日期"}, 403, "item_not_granted"),
        ({"filter": "公民身份号码"}, 400, "bad_request"),
        ({"filter": ":1"}, 400, "bad_request"),
        ({"filter": "姓名:\x00"}, 400, "bad_request"),
        ({"sort": "姓名"}, 400, "bad_request"),
    ],
)
def test_bad_calls_are_refused_clearly_and_logged(served, call, params, status, code):
    answer = call(**params)
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == code and problem["title"]
    logged = GatewayCall.objects.get()
    assert (logged.status, logged.result, logged.records) == (status, code, 0)
    assert logged.grant == served["grant"]


def test_tokens_that_are_missing_forged_or_of_a_removed_application_are_refused(
    world, client, served, call
):
    assert client.get(RECORDS).status_code == 401
    forged = client.get(RECORDS, HTTP_AUTHORIZATION="Bearer forged-token")
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_token"
    assert "Bearer" in forged["WWW-Authenticate"]
    assert call().status_code == 200
    accounts.remove_oidc_client(served["client"], actor=world.admin_b)
    assert call().status_code == 401
    assert list(GatewayCall.objects.order_by("id").values_list("status", flat=True)) == [
        401,
        401,
        200,
        401,
    ]


def test_a_revoked_or_expired_grant_stops_the_data_at_once(world, served, call):
    grant = served["grant"]
    sharing.revoke_grant(grant, actor=world.admin_a, reason="超范围使用。")
    revoked = call()
    assert revoked.status_code == 403 and revoked.json()["code"] == "grant_revoked"
    assert "超范围使用" in revoked.json()["title"]
    type(grant).objects.filter(pk=grant.pk).update(
        revoked_at=None, expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert call().json()["code"] == "grant_expired"


def test_an_application_without_a_grant_learns_the_rules_but_reads_nothing(world, client, served):
    other, secret = accounts.register_oidc_client(
        actor=world.admin_b, name="乙区其他系统", grant="client-credentials"
    )
    token = token_for(client, other, secret)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get(RECORDS, **headers).json()["code"] == "no_grant"
    rules = client.get(METADATA, **headers).json()
    assert rules["usage"]["standing"] == "no_grant" and rules["usage"]["grant"] is None
    masking = {item["name"]: item["masking"] for item in rules["items"]}
    assert masking["公民身份号码"] == "resident_id" and rules["share"]["type"] == "conditional"
    assert client.get("/gateway/v1/resources/101001/999999/records", **headers).status_code == 404


def test_the_granted_application_reads_its_terms_in_the_metadata(served, call):
    usage = call(METADATA).json()["usage"]
    assert usage["standing"] == "granted" and usage["grant"]["items"] == ["姓名", "公民身份号码"]
    assert usage["max_page_size"] == 100


def test_calls_beyond_the_rate_are_refused_until_the_next_minute(served, call, settings):
    settings.ZHENGYUN_GATEWAY_CALLS_PER_MINUTE = 2
    assert [call().status_code for _ in range(3)] == [200, 200, 429]
    limited = call()
    assert limited.json()["code"] == "rate_limited" and int(limited["Retry-After"]) >= 1


def test_calls_beyond_the_day_s_quota_are_refused_and_not_counted(served, call, settings):
    settings.ZHENGYUN_GATEWAY_CALLS_PER_DAY = 2
    assert [call().status_code for _ in range(3)] == [200, 200, 429]
    exhausted = call()
    assert exhausted.json()["code"] == "quota_exhausted" and int(exhausted["Retry-After"]) >= 1
    settings.ZHENGYUN_GATEWAY_CALLS_PER_DAY = 3  # the refused calls used none of it
    assert [call().status_code for _ in range(2)] == [200, 429]


def _execute(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_call_log_verifies_and_names_a_changed_or_deleted_call(served, call):
    for _ in range(4):
        call()
    call(fields="联系电话")
    checked = calllog.verify()
    assert checked.intact and (checked.calls, checked.seals) == (5, 1)
    table = GatewayCall._meta.db_table
    _execute(f"UPDATE {table} SET records = 0 WHERE seq = 2", [])  # noqa: S608
    assert calllog.verify().problems == [
        f"call {GatewayCall.objects.get(seq=2).pk} at sequence 2 was changed"
    ]
    _execute(f"UPDATE {table} SET records = 3 WHERE seq = 2", [])  # noqa: S608
    assert calllog.verify().intact
    _execute(f"DELETE FROM {table} WHERE seq = 3", [])  # noqa: S608
    assert "sequence 4 deleted before it" in calllog.verify().problems[0]


def test_cutting_calls_from_the_end_is_caught_by_the_last_seal(served, call):
    call()
    call()
    calllog.seal_all()
    _execute(f"DELETE FROM {GatewayCall._meta.db_table} WHERE seq = 2", [])  # noqa: S608
    assert calllog.verify().problems == ["calls after sequence 1 were deleted"]


def test_an_application_of_another_department_reads_nothing(world, client, served):
    theirs, secret = accounts.register_oidc_client(
        actor=world.admin_a, name="甲区系统", grant="client-credentials"
    )
    token = token_for(client, theirs, secret)
    # Even the provider's own application holds no grant to a consumer's terms.
    refused = client.get(RECORDS, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert refused.status_code == 403 and "records" not in refused.json()


@examples(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["fields", "filter", "page", "page_size", "sort", "姓名", "\x00"]),
        st.text(max_size=40) | st.sampled_from(["姓名", "公民身份号码:1", "99999999999999999999"]),
        max_size=4,
    )
)
def test_no_parameters_give_a_server_error(served, call, params):
    """Fuzzing the gateway's parameters (it is not in the OpenAPI document the API fuzz
    test reads): every answer is data or a clear refusal, never a 500."""
    answer = call(**params)
    assert answer.status_code in (200, 400, 403, 429), (params, answer.content)
    if answer.status_code != 200:
        assert answer.json()["code"]


def test_an_expired_token_or_a_persons_token_reads_nothing(world, client, served, call):
    from oauth2_provider.models import AccessToken

    assert call().status_code == 200
    AccessToken.objects.update(expires=timezone.now() - datetime.timedelta(seconds=1))
    assert call().json()["code"] == "invalid_token"
    persons = AccessToken.objects.create(
        user=world.staff_b,
        application=served["client"].application,
        token="a-persons-sign-in-token",
        expires=timezone.now() + datetime.timedelta(hours=1),
        scope="openid",
    )
    answer = client.get(RECORDS, HTTP_AUTHORIZATION=f"Bearer {persons.token}")
    assert answer.status_code == 401 and "客户端凭据" in answer.json()["title"]


def test_items_the_provider_has_since_withheld_are_served_to_nobody(world, served, call):
    from zhengyun.data_resources import catalog

    fields = resource_fields()["items"]
    fields[0] = item("姓名", "C", 50, share_type="none", legal_basis="《个人信息保护法》")
    catalog.update_resource(served["resource"], actor=world.staff_a, changes={"items": fields})
    catalog.submit_resource(served["resource"], actor=world.staff_a)
    catalog.approve_resource(served["resource"], actor=world.operator)
    withheld = call()
    assert withheld.status_code == 403 and withheld.json()["code"] == "item_not_shared"
    assert call(fields="公民身份号码").status_code == 200


def test_refusals_past_the_rate_per_address_are_answered_but_not_all_logged(
    client, served, settings
):
    settings.ZHENGYUN_GATEWAY_REFUSALS_PER_MINUTE = 2
    answers = [client.get(RECORDS).status_code for _ in range(5)]
    assert answers == [401, 401, 429, 429, 429]
    assert list(GatewayCall.objects.order_by("id").values_list("result", flat=True)) == [
        "invalid_token",
        "invalid_token",
        "too_many_refusals",
    ]


def test_removing_an_application_leaves_its_sealed_calls_verifiable(world, served, call):
    call()
    calllog.seal_all()
    accounts.remove_oidc_client(served["client"], actor=world.admin_b)
    assert calllog.verify().intact
    assert GatewayCall.objects.get().application_id == served["client"].pk


def test_calls_past_the_last_signature_are_a_break(served, call):
    from zhengyun.gateway.models import CallLogSeal

    call()
    calllog.seal_all()
    call()
    calllog.seal_all()
    _execute(f"DELETE FROM {CallLogSeal._meta.db_table} WHERE seq = 2", [])  # noqa: S608
    assert calllog.verify().problems == ["calls after sequence 1 are not signed"]
