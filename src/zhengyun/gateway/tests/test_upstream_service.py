"""A provider serves a resource from its own HTTP service registered with its OpenAPI
description (R-D3): the gateway reads the records from the service on every call, checks
them against the description and the items' data types, and masks and logs them as it does
a file's. A description the gateway cannot use is refused and changes nothing; a service
that fails or answers outside its description is a clear refusal, logged."""

import copy
import ipaddress
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from django.core.exceptions import ValidationError

from zhengyun.data_resources import datasets, upstreams
from zhengyun.data_resources.models import ResourceChange, ResourceDataset, ResourceUpstream
from zhengyun.gateway.models import GatewayCall
from zhengyun.testing.catalog import population_csv

pytestmark = pytest.mark.django_db

EXPORT = "/gateway/v1/resources/101001/000001/export"
PEOPLE = [
    {
        "xm": "张三丰",
        "sfzh": "330106198001011234",
        "lxdh": "13812345678",
        "住址": "浙江省杭州市西湖区文三路1号",
        "csrq": "1980-01-01",
    },
    {
        "xm": "李四",
        "sfzh": "330106199202022345",
        "lxdh": "13987654321",
        "住址": "浙江省杭州市上城区解放路2号",
        "csrq": "1992-02-02",
    },
    {
        "xm": "王五",
        "sfzh": "33010620000303345X",
        "lxdh": "13700001111",
        "住址": "浙江省杭州市拱墅区湖墅南路3号",
        "csrq": None,
    },
]


class Service:
    """A provider's HTTP service on this machine: answers ``GET /api/people`` with
    ``status`` and ``body`` (or 401 without the ``required`` header) and counts the calls."""

    def __init__(self):
        self.status, self.body, self.calls = 200, json.dumps({"data": PEOPLE}).encode(), 0
        self.required = None  # (header, value) a call must carry, else 401
        self.seen = []  # each call's headers
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                service.calls += 1
                service.seen.append(dict(self.headers))
                required = service.required
                if required and self.headers.get(required[0]) != required[1]:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(service.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(service.body)))
                self.end_headers()
                self.wfile.write(service.body)

            def log_message(self, *args):
                """Quiet: the tests read the gateway's answers, not the server's log."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def description(url):
    """The service's OpenAPI description: records under ``data``, one property named after
    its item and the others titled with theirs."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "户籍人口查询服务", "version": "1.0"},
        "servers": [{"url": url}],
        "paths": {
            "/people": {
                "get": {
                    "parameters": [{"name": "since", "in": "query", "required": False}],
                    "responses": {
                        "200": {
                            "description": "户籍人口",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "data": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Person"},
                                            },
                                            "total": {"type": "integer"},
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Person": {
                    "type": "object",
                    "properties": {
                        "xm": {"type": "string", "title": "姓名"},
                        "sfzh": {"type": "string", "title": "公民身份号码"},
                        "lxdh": {"type": "string", "title": "联系电话"},
                        "住址": {"type": "string"},
                        "csrq": {"type": "string", "format": "date", "title": "出生日期"},
                    },
                }
            }
        },
    }


def register(served, world, document, *, as_yaml=True):
    text = yaml.safe_dump(document, allow_unicode=True) if as_yaml else json.dumps(document)
    return upstreams.register_upstream(served["resource"], actor=world.staff_a, description=text)


def test_records_come_from_the_providers_service_masked_and_logged(served, service, call, world):
    register(served, world, description(service.url))
    calls_before = service.calls  # registering reads the service once, to check it

    answer = call(page_size=2)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["count"] == 3
    assert body["records"] == [
        {"姓名": "张**", "公民身份号码": "330106********1234"},
        {"姓名": "李*", "公民身份号码": "330106********2345"},
    ]
    assert service.calls == calls_before + 1
    logged = GatewayCall.objects.get(operation="records")
    assert (logged.status, logged.records, logged.items) == (200, 2, ["姓名", "公民身份号码"])


def test_a_json_description_with_the_records_as_the_whole_answer_is_served(
    served, service, call, world
):
    document = description(service.url)
    answer_schema = document["paths"]["/people"]["get"]["responses"]["200"]["content"]
    answer_schema["application/json"]["schema"] = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Person"},
    }
    service.body = json.dumps(PEOPLE).encode()
    registered = register(served, world, document, as_yaml=False)

    assert registered.records_at == ""
    assert registered.url == service.url + "/people"
    assert [r["姓名"] for r in call(page=2, page_size=2).json()["records"]] == ["王*"]


def test_a_service_replaces_the_file_and_a_file_replaces_the_service(served, service, world):
    resource = served["resource"]
    registered = register(served, world, description(service.url))

    assert not ResourceDataset.objects.filter(resource=resource).exists()
    change = ResourceChange.objects.filter(resource=resource).latest("pk")
    assert (change.kind, change.digest) == (ResourceChange.Kind.DATA, registered.digest)

    datasets.load_dataset(resource, actor=world.staff_a, name="人口.csv", content=population_csv())

    assert not ResourceUpstream.objects.filter(resource=resource).exists()
    assert ResourceDataset.objects.filter(resource=resource).exists()


def test_the_whole_export_comes_from_the_service_too(served, service, call, world):
    register(served, world, description(service.url))

    answer = call(EXPORT)

    assert answer.status_code == 200
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "姓名,公民身份号码",
        "张**,330106********1234",
        "李*,330106********2345",
        "王*,330106********345X",
    ]


def test_a_later_version_without_an_item_is_still_served_from_the_service(
    served, service, call, world
):
    from zhengyun.data_resources import catalog
    from zhengyun.testing.catalog import resource_fields

    register(served, world, description(service.url))
    resource = served["resource"]
    kept = [i for i in resource_fields()["items"] if i["name"] != "住址"]
    catalog.update_resource(resource, actor=world.staff_a, changes={"items": kept})
    catalog.submit_resource(resource, actor=world.staff_a)
    catalog.approve_resource(resource, actor=world.operator)

    answer = call(page_size=1)

    assert answer.status_code == 200, answer.content
    assert answer.json()["records"] == [{"姓名": "张**", "公民身份号码": "330106********1234"}]


def _broken(change):
    def broken(url):
        document = description(url)
        change(document)
        return document

    return broken


def _get(document):
    return document["paths"]["/people"]["get"]


BROKEN_DESCRIPTIONS = {
    "swagger 2": _broken(lambda d: (d.pop("openapi"), d.update(swagger="2.0"))),
    "two GET operations": _broken(lambda d: d["paths"].update({"/others": d["paths"]["/people"]})),
    "a path parameter": _broken(lambda d: d.update(paths={"/people/{id}": d["paths"]["/people"]})),
    "a required parameter": _broken(lambda d: _get(d)["parameters"][0].update(required=True)),
    "no server": _broken(lambda d: d.pop("servers")),
    "an FTP server": _broken(lambda d: d["servers"][0].update(url="ftp://files.example/api")),
    "a server with a password": _broken(
        lambda d: d["servers"][0].update(url="http://user:secret@rk.example/api")
    ),
    "an item without a property": _broken(
        lambda d: d["components"]["schemas"]["Person"]["properties"].pop("sfzh")
    ),
    "a reference outside": _broken(
        lambda d: _get(d)["responses"]["200"]["content"]["application/json"]["schema"][
            "properties"
        ]["data"]["items"].update({"$ref": "https://example.org/person.json"})
    ),
    "a reference to nothing": _broken(
        lambda d: d["components"]["schemas"].update(Person={"$ref": "#/components/schemas/Nobody"})
    ),
    "references in a circle": _broken(
        lambda d: d["components"]["schemas"].update(Person={"$ref": "#/components/schemas/Person"})
    ),
    "an answer that is text": _broken(
        lambda d: _get(d)["responses"]["200"]["content"]["application/json"].update(
            schema={"type": "string"}
        )
    ),
    "no 200 answer": _broken(lambda d: _get(d)["responses"].pop("200")),
    "an answer schema that is text": _broken(
        lambda d: _get(d)["responses"]["200"]["content"]["application/json"].update(
            schema={"$ref": "#/openapi"}
        )
    ),
    "a property that is text": _broken(
        lambda d: d["components"]["schemas"]["Person"]["properties"].update(xm="string")
    ),
    "a title that is a list": _broken(
        lambda d: d["components"]["schemas"]["Person"]["properties"]["xm"].update(title=["姓名"])
    ),
    "parameters that are a number": _broken(lambda d: _get(d).update(parameters=5)),
    "a port out of range": _broken(
        lambda d: d["servers"][0].update(url="http://127.0.0.1:99999/api")
    ),
    "a broken IPv6 address": _broken(lambda d: d["servers"][0].update(url="http://[::1/api")),
    "a question mark in the address": _broken(
        lambda d: d["servers"][0].update(url=d["servers"][0]["url"] + "?")
    ),
    "a lone surrogate in the path": _broken(
        lambda d: d.update(paths={"/people\ud800": d["paths"]["/people"]})
    ),
    "a link-local server": _broken(
        lambda d: d["servers"][0].update(url="http://169.254.169.254/latest")
    ),
    "a cloud metadata server": _broken(
        lambda d: d["servers"][0].update(url="http://100.100.100.200/latest")
    ),
    "an address too long": _broken(
        lambda d: d["servers"][0].update(url="https://rk.example/" + "a" * 500)
    ),
}


@pytest.mark.parametrize("broken", BROKEN_DESCRIPTIONS.values(), ids=BROKEN_DESCRIPTIONS.keys())
def test_a_description_the_gateway_cannot_use_is_refused_and_changes_nothing(
    served, service, world, broken
):
    resource = served["resource"]

    with pytest.raises(ValidationError) as refused:
        register(served, world, broken(service.url), as_yaml=False)

    assert "description" in refused.value.message_dict
    assert not ResourceUpstream.objects.filter(resource=resource).exists()
    assert ResourceDataset.objects.get(resource=resource).row_count == 3


def _valid_yaml(url):
    return yaml.safe_dump(description(url), allow_unicode=True)


TEXT_MISTAKES = {
    "prose": (lambda url: "这不是一份接口描述", "JSON 或 YAML 格式的 OpenAPI 文档"),
    "YAML aliases": (
        lambda url: _valid_yaml(url) + "x-a: &a [1, 2]\nx-b: [*a, *a]\n",
        "不能使用 YAML 别名",
    ),
    "broken YAML": (lambda url: "{not json: [", "既不是 JSON 也不是 YAML"),
    "too long": (
        lambda url: _valid_yaml(url) + "x-padding: " + "a" * upstreams.MAX_DESCRIPTION + "\n",
        "最多 256 KB",
    ),
    "nested without end (JSON)": (lambda url: "[" * 100_000, "既不是 JSON 也不是 YAML"),
    "nested without end (YAML)": (lambda url: "a: " + "[" * 20_000, "既不是 JSON 也不是 YAML"),
    "an impossible date": (lambda url: _valid_yaml(url) + "x-day: 2024-13-45\n", "JSON"),
    "a number too long": (lambda url: _valid_yaml(url) + "x-n: " + "1" * 5000 + "\n", "JSON"),
    "a property YAML reads as false": (
        lambda url: _valid_yaml(url).replace("    xm:", "    no:"),
        "请为 False 加引号",
    ),
    "a property YAML reads as a date": (
        lambda url: _valid_yaml(url).replace("    xm:", "    2024-01-01:"),
        "请为 2024-01-01 加引号",
    ),
    "a records property YAML reads as a number": (
        lambda url: _valid_yaml(url).replace("          data:", "          5:"),
        "请为 5 加引号",
    ),
}


@pytest.mark.parametrize("make, said", TEXT_MISTAKES.values(), ids=TEXT_MISTAKES.keys())
def test_text_that_is_no_usable_description_is_refused(served, service, world, make, said):
    with pytest.raises(ValidationError) as refused:
        upstreams.register_upstream(
            served["resource"], actor=world.staff_a, description=make(service.url)
        )

    assert said in " ".join(refused.value.message_dict["description"])
    assert not ResourceUpstream.objects.exists()


def _answer(status=200, body=None):
    def set_up(service):
        service.status = status
        service.body = body if body is not None else service.body

    return set_up


def _person(drop=None, **changes):
    person = copy.deepcopy(PEOPLE[0])
    person.update(changes)
    person.pop(drop, None)
    return json.dumps({"data": [person]}).encode()


FAILURES = {
    "status 500": (_answer(500), "状态码 500"),
    "not JSON": (_answer(body=b"<html>busy</html>"), "不是 JSON"),
    "no list of records": (_answer(body=b'{"data": {"xm": "x"}}'), "不是记录列表"),
    "a record that is no object": (_answer(body=b'{"data": ["x"]}'), "第 1 条记录"),
    "a property missing": (_answer(body=_person(xm=None, drop="xm")), "xm"),
    "an object for a value": (_answer(body=_person(xm={"a": 1})), "姓名"),
    "a value too long": (_answer(body=_person(sfzh="3" * 19)), "公民身份号码"),
    "JSON nested without end": (_answer(body=b"[" * 100_000), "不是 JSON"),
}


@pytest.mark.parametrize("set_up, said", FAILURES.values(), ids=FAILURES.keys())
def test_a_service_failing_or_answering_outside_its_description_is_refused_and_logged(
    served, service, call, world, set_up, said
):
    register(served, world, description(service.url))
    set_up(service)

    answer = call()

    assert answer.status_code == 502
    assert answer.json()["code"] == "upstream_failed"
    assert said in answer.json()["title"]
    logged = GatewayCall.objects.get(operation="records")
    assert (logged.status, logged.result, logged.records) == (502, "upstream_failed", 0)


def test_an_answer_beyond_the_limit_is_refused(served, service, call, world, monkeypatch):
    register(served, world, description(service.url))
    monkeypatch.setattr(upstreams, "MAX_ANSWER", 1024 * 1024)
    service.body = json.dumps({"data": PEOPLE * 2500}).encode()  # 1.3 MB

    answer = call()

    assert answer.status_code == 502
    assert "超过 1 MB" in answer.json()["title"]


def test_a_service_that_is_down_or_on_a_closed_address_is_refused(
    served, service, call, world, settings
):
    register(served, world, description(service.url))
    service.close()

    assert "未响应" in call().json()["title"]

    settings.ZHENGYUN_UPSTREAM_ALLOW_LOOPBACK = False
    assert "地址" in call().json()["title"]


REGISTRATION_FAILURES = {
    "status 500": (_answer(500), None),
    "not JSON": (_answer(body=b"<html>busy</html>"), None),
    "no list of records": (_answer(body=b'{"data": {"xm": "x"}}'), "description"),
    "a property missing": (_answer(body=_person(drop="xm")), "description"),
}


@pytest.mark.parametrize("set_up, field", REGISTRATION_FAILURES.values(), ids=REGISTRATION_FAILURES)
def test_a_registration_failure_is_told_against_what_the_provider_must_mend(
    served, service, world, api_as, set_up, field
):
    """A service that is down or answers an error is no fault of the description; one
    answering otherwise than described is."""
    set_up(service)
    path = f"/api/v1/data/resources/{served['resource'].pk}/service/"
    text = yaml.safe_dump(description(service.url), allow_unicode=True)

    refused = api_as(world.staff_a).post(path, {"description": text}, format="json")

    assert refused.status_code == 400
    assert [error["field"] for error in refused.json()["errors"]] == [field]
    assert not ResourceUpstream.objects.exists()


def test_a_service_down_at_registration_is_a_form_error_not_the_descriptions(
    served, service, world, client
):
    service.close()
    client.force_login(world.staff_a)
    text = yaml.safe_dump(description(service.url), allow_unicode=True)

    page = client.post(f"/data/resources/{served['resource'].pk}/service/", {"description": text})

    assert page.context["service_form"].non_field_errors() == ["提供方服务未响应。"]
    assert not page.context["service_form"].errors.get("description")


def test_the_api_registers_a_service_for_the_provider_only(
    served, service, world, api_as, settings
):
    resource = served["resource"]
    path = f"/api/v1/data/resources/{resource.pk}/service/"
    text = yaml.safe_dump(description(service.url), allow_unicode=True)

    assert api_as(world.staff_b).post(path, {"description": text}, format="json").status_code == 404
    bad = api_as(world.staff_a).post(path, {"description": "openapi: 2.0"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "description"
    assert not ResourceUpstream.objects.exists()

    answer = api_as(world.staff_a).post(path, {"description": text}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["url"] == service.url + "/people"
    assert answer.json()["fields"]["公民身份号码"] == "sfzh"


def test_the_console_registers_a_service_and_shows_where_records_come_from(
    served, service, world, client
):
    resource = served["resource"]
    detail = f"/data/resources/{resource.pk}/"
    client.force_login(world.staff_a)

    refused = client.post(f"{detail}service/", {"description": "openapi: 2.0"})

    assert refused.status_code == 200
    assert "OpenAPI 3.0 或 3.1" in refused.content.decode()
    assert not ResourceUpstream.objects.exists()

    text = yaml.safe_dump(description(service.url), allow_unicode=True)
    answer = client.post(f"{detail}service/", {"description": text}, follow=True)

    page = answer.content.decode()
    assert f"{service.url}/people" in page
    assert "公民身份号码 ← <code>sfzh</code>" in page
    client.force_login(world.staff_b)
    assert client.post(f"{detail}service/", {"description": text}).status_code == 404


def test_filters_and_pages_apply_to_the_services_records(served, service, call, world):
    from zhengyun.data_resources.models import Grant

    register(served, world, description(service.url))
    # The grant covers a birth date too, an item that is not masked and so can be filtered on.
    Grant.objects.filter(pk=served["grant"].pk).update(items=["姓名", "公民身份号码", "出生日期"])

    found = call(filter="出生日期:1992-02-02").json()
    assert (found["count"], [r["姓名"] for r in found["records"]]) == (1, ["李*"])
    assert call(filter="出生日期:1999-09-09").json()["count"] == 0
    assert call(page=3, page_size=1).json()["records"][0]["出生日期"] is None


def test_a_network_the_operator_closes_is_not_called(served, service, world, settings):
    settings.ZHENGYUN_OUTBOUND_CLOSED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]

    with pytest.raises(ValidationError, match="不在允许调用的范围内"):
        register(served, world, description(service.url))
    assert service.calls == 0


def test_an_item_shared_after_the_service_was_registered_is_refused_until_it_is_again(
    served, service, world
):
    upstream = register(served, world, description(service.url))
    items = {"新信息项": {"name": "新信息项", "data_type": "C", "length": 10}}

    with pytest.raises(upstreams.UpstreamFailed, match="新信息项"):
        upstreams.fetch(upstream, items, wanted=["新信息项"], credential="")
