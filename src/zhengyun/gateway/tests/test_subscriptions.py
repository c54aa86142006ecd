"""Exchange by subscription (R-A4): a granted application pulls a resource's changes after
a cursor, or has them posted to its address signed with SM2, retried with growing pauses
and logged without what they carried; every malformed or unauthorised attempt is refused
and changes nothing."""

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from zhengyun.crypto import gm
from zhengyun.data_resources import datasets, sharing
from zhengyun.data_resources.models import ResourceVersion
from zhengyun.gateway import subscriptions
from zhengyun.gateway.models import Delivery, GatewayCall, Subscription
from zhengyun.testing.catalog import POPULATION_ROWS, population_csv, resource_fields

pytestmark = pytest.mark.django_db

CHANGES = "/gateway/v1/resources/101001/000001/changes"


class Receiver:
    """A consumer's HTTP endpoint on this machine: answers each post with the next status
    of ``answers`` (the last one from then on) and keeps what it was sent."""

    def __init__(self, answers):
        self.answers, self.received = list(answers), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = (
                    receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                """Quiet: the tests read what was received, not the server's log."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/population"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.ZHENGYUN_WEBHOOK_ALLOW_LOOPBACK = True
    made = []

    def make(*answers):
        made.append(Receiver(answers or (200,)))
        return made[-1]

    yield make
    for one in made:
        one.close()


def subscribe(client, world, served, url, person=None):
    client.force_login(person or world.admin_b)
    version = ResourceVersion.objects.get(resource=served["resource"], is_current=True)
    return client.post(
        "/api/v1/gateway/subscriptions/",
        {"version": version.pk, "application": served["client"].pk, "url": url},
        content_type="application/json",
    )


def reload(world, served, rows=POPULATION_ROWS[:2]):
    datasets.load_dataset(
        served["resource"], actor=world.staff_a, name="人口.csv", content=population_csv(rows=rows)
    )


def test_changes_are_pulled_after_a_cursor(served, call, world):
    first = call(CHANGES).json()
    assert [c["kind"] for c in first["changes"]] == ["version", "data"]
    assert first["changes"][1]["rows"] == 3 and first["more"] is False
    cursor = first["next_cursor"]
    assert call(CHANGES, after=cursor).json()["changes"] == []

    reload(world, served)
    later = call(CHANGES, after=cursor).json()
    (change,) = later["changes"]
    assert (change["kind"], change["rows"], change["version"]) == ("data", 2, 1)
    assert "digest" not in change  # of the provider's file, which holds items not granted
    paged = call(CHANGES, limit="1").json()
    assert len(paged["changes"]) == 1 and paged["more"] is True
    assert GatewayCall.objects.filter(operation="changes", result="ok").count() == 4


@pytest.mark.parametrize(
    "params",
    [{"after": "abc"}, {"after": "１"}, {"after": "9" * 19}, {"limit": "0"}, {"limit": "101"},
     {"limit": "0001"}, {"since": "1"}],
)  # fmt: skip
def test_a_malformed_pull_is_refused(served, call, params):
    refused = call(CHANGES, **params)
    assert refused.status_code == 400 and refused.json()["code"] == "bad_request"


def test_only_a_granted_application_pulls(served, call, client, world):
    assert client.get(CHANGES).status_code == 401
    sharing.revoke_grant(served["grant"], actor=world.admin_a, reason="停止对接。")
    refused = call(CHANGES)
    assert refused.status_code == 403 and refused.json()["code"] == "grant_revoked"


def test_each_change_is_posted_signed_and_logged_without_its_content(
    served, receiver, client, world
):
    hooks = receiver(200)
    made = subscribe(client, world, served, hooks.url)
    assert made.status_code == 201, made.content
    reload(world, served)
    assert subscriptions.deliver_due() == 1
    ((headers, body),) = hooks.received
    public = gm.load_public_key(client.get("/gateway/v1/signing-key").content)
    assert gm.sm2_verify(public, bytes.fromhex(headers["X-Zhengyun-Signature"]), body)
    assert not gm.sm2_verify(public, bytes.fromhex(headers["X-Zhengyun-Signature"]), body + b" ")
    posted = json.loads(body)
    assert (posted["resource"], posted["change"]["kind"], posted["change"]["rows"]) == (
        "101001/000001",
        "data",
        2,
    )
    assert headers["X-Zhengyun-Delivery"] == str(posted["delivery"])

    log = client.get("/api/v1/gateway/deliveries/").json()["results"]
    assert [(d["status"], d["attempts"], d["response_status"]) for d in log] == [
        ("delivered", 1, 200)
    ]
    assert "digest" not in log[0] and "rows" not in log[0]  # what it carried is not kept
    client.force_login(world.admin_a)  # the provider sees who listens and what went out
    assert client.get("/api/v1/gateway/subscriptions/").json()["count"] == 1
    assert client.get("/api/v1/gateway/deliveries/").json()["count"] == 1
    assert subscriptions.deliver_due() == 0  # nothing posted twice


def test_a_failing_address_is_tried_again_after_growing_pauses_then_given_up(
    served, receiver, client, world, settings
):
    settings.ZHENGYUN_WEBHOOK_MAX_ATTEMPTS = 3
    hooks = receiver(500, 503, 500, 200)
    subscribe(client, world, served, hooks.url)
    reload(world, served)
    start = timezone.now()
    assert subscriptions.deliver_due(start) == 1
    delivery = Delivery.objects.get()
    assert (delivery.attempts, delivery.response_status, delivery.error) == (1, 500, "HTTP 500")
    assert delivery.next_attempt_at == start + datetime.timedelta(minutes=1)
    assert subscriptions.deliver_due(start + datetime.timedelta(seconds=30)) == 0  # not yet
    second = start + datetime.timedelta(minutes=1)
    assert subscriptions.deliver_due(second) == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == second + datetime.timedelta(minutes=2)
    assert subscriptions.deliver_due(second + datetime.timedelta(minutes=2)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert len(hooks.received) == 3
    assert subscriptions.pause_after(20) == datetime.timedelta(hours=6)


def test_an_address_that_does_not_answer_is_tried_again(served, receiver, client, world):
    hooks = receiver(200)
    subscribe(client, world, served, hooks.url)
    hooks.close()  # nobody listens there any more
    reload(world, served)
    subscriptions.deliver_due()
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.error.startswith("NewConnectionError")


def test_nothing_is_posted_once_the_grant_ends(served, receiver, client, world):
    hooks = receiver(200)
    subscribe(client, world, served, hooks.url)
    reload(world, served)
    sharing.revoke_grant(served["grant"], actor=world.admin_a, reason="停止对接。")
    subscriptions.deliver_due()
    assert hooks.received == []
    assert Delivery.objects.get().error == "no grant in force"
    reload(world, served, rows=POPULATION_ROWS[:1])  # no grant: no delivery at all
    assert Delivery.objects.count() == 1


def test_an_ended_subscription_or_a_withheld_resource_gets_nothing_more(
    served, receiver, client, world
):
    from zhengyun.data_resources import catalog

    hooks = receiver(200)
    subscription_id = subscribe(client, world, served, hooks.url).json()["id"]
    reload(world, served)
    assert client.delete(f"/api/v1/gateway/subscriptions/{subscription_id}/").status_code == 204
    assert client.delete(f"/api/v1/gateway/subscriptions/{subscription_id}/").status_code == 409
    subscriptions.deliver_due()
    assert hooks.received == []
    ended = Delivery.objects.get()
    assert (ended.status, ended.error) == ("failed", "subscription ended")
    assert Subscription.objects.get(pk=subscription_id).cancelled_at is not None  # on record
    again = subscribe(client, world, served, hooks.url)  # a new one at the same address
    assert again.status_code == 201 and Delivery.objects.count() == 1

    reload(world, served, rows=POPULATION_ROWS[:1])
    resource = served["resource"]
    basis = "《中华人民共和国个人信息保护法》"
    withheld = [
        {**item, "share_type": "none", "legal_basis": basis} for item in resource_fields()["items"]
    ]
    catalog.update_resource(
        resource,
        actor=world.staff_a,
        changes={
            "share_type": "none",
            "share_methods": [],
            "share_conditions": "",
            "legal_basis": basis,
            "items": withheld,
        },
    )
    catalog.submit_resource(resource, actor=world.staff_a)
    catalog.approve_resource(resource, actor=world.operator)
    subscriptions.deliver_due()
    assert hooks.received == []  # the change before the withholding is not posted either
    assert set(Delivery.objects.values_list("error", flat=True)) >= {"resource not shared"}


def test_a_worker_that_died_mid_post_leaves_the_delivery_to_another_and_its_attempt_counted(
    served, receiver, client, world
):
    hooks = receiver(200)
    subscribe(client, world, served, hooks.url)
    reload(world, served)
    start = timezone.now()
    stale = subscriptions._claim(start)  # a worker takes it up and dies before posting
    assert subscriptions.deliver_due(start) == 0  # leased: nobody else takes it meanwhile
    later = start + subscriptions.LEASE
    assert subscriptions.deliver_due(later) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, len(hooks.received)) == ("delivered", 2, 1)
    subscriptions._record(stale, later, failed=True, error="late")  # the dead worker's word
    delivery.refresh_from_db()
    assert delivery.status == "delivered"  # does not overwrite the later outcome


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("ftp://hooks.example.gov.cn/x", "url"),
        ("hooks.example.gov.cn/x", "url"),
        ("http://169.254.169.254/latest", "url"),
        ("http://[::1]:8080/x", "url"),
        ("http://[::ffff:127.0.0.1]:8080/x", "url"),
        ("http://[::ffff:169.254.169.254]/latest", "url"),
        ("http://100.100.100.200/latest/meta-data", "url"),
    ],
)
def test_an_address_that_cannot_take_deliveries_is_refused(served, client, world, url, field):
    answer = subscribe(client, world, served, url)
    assert answer.status_code == 400
    assert any(e["field"] == field for e in answer.json()["errors"])
    assert Subscription.objects.count() == 0


def test_only_a_granted_application_of_the_own_department_subscribes(
    served, receiver, client, world
):
    from zhengyun.testing.catalog import consumer_application

    hooks = receiver(200)
    ungranted = consumer_application(world.admin_b, "乙区另一系统")
    client.force_login(world.admin_b)
    version = ResourceVersion.objects.get(resource=served["resource"], is_current=True)
    refused = client.post(
        "/api/v1/gateway/subscriptions/",
        {"version": version.pk, "application": ungranted.pk, "url": hooks.url},
        content_type="application/json",
    )
    assert refused.status_code == 409
    assert subscribe(client, world, served, hooks.url).status_code == 201
    assert subscribe(client, world, served, hooks.url).status_code == 409  # once per address
    # Staff see the subscriptions but do not make them.
    assert subscribe(client, world, served, hooks.url + "2", world.staff_b).status_code == 403
    assert client.get("/api/v1/gateway/subscriptions/").json()["count"] == 1
    assert Subscription.objects.count() == 1


def test_a_name_is_resolved_once_checked_and_posted_to_as_named(receiver, settings):
    from zhengyun.core import outbound

    hooks = receiver(204)
    named = hooks.url.replace("127.0.0.1", "localhost")
    assert subscriptions.post(named, b"{}", {"Content-Type": "application/json"}) == 204
    ((headers, _body),) = hooks.received
    assert headers["Host"] == named.split("/")[2]
    settings.ZHENGYUN_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(outbound.Closed):
        subscriptions.post(named, b"{}", {})  # localhost is loopback, whatever it is called
    assert len(hooks.received) == 1
