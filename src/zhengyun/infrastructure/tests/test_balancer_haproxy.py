"""The HAProxy balancer driver against a real haproxy on 127.0.0.1 (R-I3): two small HTTP
servers as members, requests through haproxy reaching both, a stopped member seen DOWN by
haproxy's own checks and skipped, a configuration haproxy refuses leaving the running one
alone, and removal stopping the process and closing the port."""

import http.client
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from zhengyun.infrastructure.drivers import haproxy_config
from zhengyun.infrastructure.drivers.balancer_base import (
    BalancerNotFound,
    BalancerSpec,
    ListenerSpec,
    MemberHealth,
    MemberSpec,
    MonitorSpec,
)
from zhengyun.infrastructure.drivers.base import DriverError
from zhengyun.testing.tls import issue

# May be skipped on a workstation without haproxy, never on CI.
needs_haproxy = pytest.mark.skipif(
    shutil.which("haproxy") is None and not os.environ.get("CI"),
    reason="haproxy is not installed: run scripts/install-haproxy.sh (apt-get install haproxy)",
)

HTTP_CHECK = MonitorSpec(type="http", interval_s=1, timeout_s=1, max_retries=1, http_path="/health")


class Backend:
    """A tiny HTTP server on a loopback address answering every GET with its own name."""

    def __init__(self, name, address="127.0.0.1", port=0, echo=()):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                # The answer also says what each request header in ``echo`` was.
                said = (",".join(self.headers.get_all(header) or ()) for header in echo)
                answer = " ".join([name, *said]).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # haproxy's checks hang up early; that is not a failure

        self.server = Server((address, port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(port, address="127.0.0.1"):
    request = urllib.request.Request(f"http://{address}:{port}/", headers={"Connection": "close"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read().decode()


def gone(pid):
    # A stopped daemon may linger as a zombie until its parent (init here) reaps it.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] == "Z"
    except OSError:
        return True


def closed(port, address="127.0.0.1"):
    with socket.socket() as probe:
        if probe.connect_ex((address, port)) != 0:
            return True
        # With nothing listening, a connection to a port of the ephemeral range can meet
        # itself (TCP simultaneous open): that is no server.
        return probe.getsockname() == probe.getpeername()


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def balancer(port, backends, algorithm="round_robin", monitor=HTTP_CHECK, name=None):
    return BalancerSpec(
        name=name or str(uuid.uuid4()),
        vip="127.0.0.1",
        listeners=(
            ListenerSpec(
                protocol="http",
                port=port,
                algorithm=algorithm,
                members=tuple(
                    MemberSpec(name=f"m{n}", address="127.0.0.1", port=b.port)
                    for n, b in enumerate(backends, 1)
                ),
                monitor=monitor,
            ),
        ),
    )


@pytest.fixture
def driver():
    from zhengyun.infrastructure.drivers.haproxy import HAProxyDriver

    # Short: the stats socket's path must fit a Unix socket address.
    root = tempfile.mkdtemp(prefix="lb-", dir="/tmp")
    made = HAProxyDriver(f"haproxy://{root}")
    yield made
    for entry in os.listdir(root):
        made.remove(entry)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def backends():
    started = [Backend("one"), Backend("two")]
    yield started
    for backend in started:
        backend.stop()


@needs_haproxy
def test_round_robin_health_checks_and_removal_on_a_real_haproxy(driver, backends):
    port = free_port()
    spec = balancer(port, backends)
    driver.apply(spec)
    assert sorted(fetch(port) for _ in range(4)) == ["one", "one", "two", "two"]
    assert wait_for(
        lambda: set(driver.health(spec.name).values()) == {MemberHealth.UP}, seconds=5
    ), driver.health(spec.name)

    backends[1].stop()
    # fall 1 at one check a second: DOWN within the check period (and its timeout).
    assert wait_for(lambda: driver.health(spec.name)["m2"] == MemberHealth.DOWN, seconds=4)
    assert driver.health(spec.name)["m1"] == MemberHealth.UP
    assert [fetch(port) for _ in range(4)] == ["one"] * 4

    pid = int((driver.root / spec.name / "haproxy.pid").read_text())
    driver.remove(spec.name)
    assert gone(pid)
    assert wait_for(lambda: closed(port), seconds=3)
    with pytest.raises(BalancerNotFound):
        driver.health(spec.name)
    driver.remove(spec.name)  # removing a missing balancer succeeds


@needs_haproxy
def test_an_http_listener_tells_members_who_called_and_believes_no_caller(driver):
    backend = Backend("one", echo=("X-Forwarded-Proto", "X-Forwarded-For"))
    port = free_port()
    spec = balancer(port, [backend], monitor=None)
    forged = {"Connection": "close", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    try:
        driver.apply(spec)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers=forged)
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.read().decode() == "one http 127.0.0.1"
    finally:
        driver.remove(spec.name)
        backend.stop()


@needs_haproxy
def test_apply_is_idempotent_reloads_changes_and_keeps_a_refused_one_out(driver, backends):
    port = free_port()
    spec = balancer(port, backends[:1])
    driver.apply(spec)
    pid_file = driver.root / spec.name / "haproxy.pid"
    first = pid_file.read_text()
    driver.apply(spec)
    assert pid_file.read_text() == first  # nothing changed, nothing reloaded

    driver.apply(balancer(port, backends, algorithm="least_connections", name=spec.name))
    assert pid_file.read_text() != first
    assert wait_for(lambda: gone(int(first)), seconds=5)
    assert {fetch(port) for _ in range(6)} == {"one", "two"}

    (listener,) = balancer(port, backends, name=spec.name).listeners
    clash = BalancerSpec(name=spec.name, vip="127.0.0.1", listeners=(listener, listener))
    with pytest.raises(DriverError):
        driver.apply(clash)
    assert {fetch(port) for _ in range(6)} == {"one", "two"}  # still the previous config


@needs_haproxy
@pytest.mark.parametrize("algorithm", ["round_robin", "least_connections", "source_ip"])
@pytest.mark.parametrize(
    "monitor",
    [
        None,
        MonitorSpec(type="tcp", interval_s=5, timeout_s=3, max_retries=3),
        MonitorSpec(
            type="http",
            interval_s=10,
            timeout_s=2,
            max_retries=10,
            http_path="/status?full=1",
            expected_codes=(200, 202, 204),
        ),
    ],
    ids=["unchecked", "tcp", "http"],
)
def test_haproxy_accepts_every_configuration_the_platform_renders(driver, algorithm, monitor):
    spec = BalancerSpec(
        name="check",
        vip="::1",
        listeners=(
            ListenerSpec(
                protocol="tcp",
                port=5432,
                algorithm=algorithm,
                members=(MemberSpec(name="m1", address="fd00::5", port=5432, weight=256),),
                monitor=monitor,
            ),
        ),
    )
    path = driver.root / "check.cfg"
    path.write_text(haproxy_config.render(spec, driver.root / "s.sock"))
    driver._run("-c", "-f", str(path), what="refused")


def test_the_rendered_configuration_says_what_the_platform_asked():
    monitor = MonitorSpec(
        type="http",
        interval_s=4,
        timeout_s=2,
        max_retries=3,
        http_path="/health",
        expected_codes=(200, 204),
    )
    spec = BalancerSpec(
        name="x",
        vip="10.20.1.4",
        listeners=(
            ListenerSpec(
                protocol="http",
                port=80,
                algorithm="source_ip",
                members=(MemberSpec(name="m7", address="10.20.1.2", port=8080, weight=3),),
                monitor=monitor,
            ),
        ),
    )
    text = haproxy_config.render(spec, "/run/x/stats.sock")
    for line in (
        "bind 10.20.1.4:80",
        "balance source",
        "option httpchk GET /health",
        "http-check expect rstatus ^(200|204)$",
        "server m7 10.20.1.2:8080 weight 3 check inter 4s fall 3 rise 3",
        "timeout check 2s",
    ):
        assert line in text


@needs_haproxy
@pytest.mark.django_db
def test_the_platform_runs_a_department_balancer_on_a_real_haproxy(world, settings, driver):
    """From the order to the packets: a subnet of the loopback range stands in for a
    department's network, so the VIP (127.0.0.4) and the members' addresses are real."""
    from zhengyun.infrastructure import balancer_lifecycle, balancers, connections, lifecycle
    from zhengyun.infrastructure import services as infrastructure
    from zhengyun.infrastructure.choices import BalancerStatus, OperatingStatus
    from zhengyun.infrastructure.models import Member
    from zhengyun.testing.machine_room import build_machine_room

    settings.ZHENGYUN_BALANCER_DRIVER = "haproxy"
    settings.ZHENGYUN_BALANCER_URI = driver.uri
    connections._balancer_for.cache_clear()
    room = build_machine_room(world)
    staff = world.staff_a
    network = infrastructure.create_network(
        actor=staff, department=world.department_a, name="lo", reach="gov_extranet"
    )
    subnet = infrastructure.create_subnet(
        actor=staff, network=network, name="lo", cidr="127.0.0.0/29"
    )
    instances = []
    for name in ("web-1", "web-2"):
        made = infrastructure.create_instance(
            actor=staff,
            department=world.department_a,
            name=name,
            flavour=room.small,
            image=room.image,
            subnet=subnet,
        )
        lifecycle.build(made.pk)
        instances.append(made)
    member_port, listener_port = free_port(), free_port()
    web = [Backend("web-1", "127.0.0.2", member_port), Backend("web-2", "127.0.0.3", member_port)]
    try:
        balancer = balancers.order_load_balancer(
            actor=staff,
            department=world.department_a,
            name="front",
            subnet=subnet,
            protocol="http",
            port=listener_port,
            algorithm="round_robin",
            instances=instances,
            member_port=member_port,
            monitor={"type": "http", "interval_s": 1, "timeout_s": 1, "max_retries": 1},
        )
        assert balancer.vip == "127.0.0.4"
        assert balancer_lifecycle.advance(balancer.pk) == BalancerStatus.ACTIVE
        answers = {fetch(listener_port, balancer.vip) for _ in range(4)}
        assert answers == {"web-1", "web-2"}
        assert wait_for(
            lambda: balancer_lifecycle.read_health(balancer.pk) == OperatingStatus.ONLINE, 5
        )

        web[1].stop()
        assert wait_for(
            lambda: balancer_lifecycle.read_health(balancer.pk) == OperatingStatus.DEGRADED, 5
        )
        assert dict(Member.objects.values_list("instance__name", "operating_status")) == {
            "web-1": OperatingStatus.ONLINE,
            "web-2": OperatingStatus.OFFLINE,
        }
        assert {fetch(listener_port, balancer.vip) for _ in range(4)} == {"web-1"}

        balancers.delete_load_balancer(balancer, actor=staff)
        assert balancer_lifecycle.advance(balancer.pk) == "deleted"
        assert wait_for(lambda: closed(listener_port, "127.0.0.4"), seconds=3)
    finally:
        for backend in web:
            backend.stop()
        connections._balancer_for.cache_clear()


@needs_haproxy
def test_a_reload_that_failed_is_not_taken_for_applied(driver, backends):
    spec = balancer(free_port(), backends[:1])
    driver.apply(spec)
    with socket.socket() as taken:  # someone else listens on the port the change asks for
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        moved = balancer(taken.getsockname()[1], backends[:1], name=spec.name)
        for _attempt in range(2):  # and again: the old configuration still runs
            with pytest.raises(DriverError, match="did not start"):
                driver.apply(moved)
            # Served the moment apply gives up, and still answering for its members.
            assert fetch(spec.listeners[0].port) == "one"
            assert set(driver.health(spec.name)) == {"m1"}
    driver.remove(spec.name)


@needs_haproxy
def test_an_https_listener_ends_tls_with_its_certificate_and_takes_a_new_one(driver):
    backend = Backend("one", echo=("X-Forwarded-Proto", "X-Forwarded-For"))
    port = free_port()
    first, second = issue(addresses=["127.0.0.1"]), issue(addresses=["127.0.0.1"])

    def spec(issued):
        return BalancerSpec(
            name="tls",
            vip="127.0.0.1",
            listeners=(
                ListenerSpec(
                    protocol="https",
                    port=port,
                    algorithm="round_robin",
                    members=(MemberSpec(name="m1", address="127.0.0.1", port=backend.port),),
                    certificate=issued.certificate_pem,
                    private_key=issued.key_pem,
                ),
            ),
        )

    def fetch_tls(trusted):
        context = ssl.create_default_context(cadata=trusted.certificate_pem)
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
        try:
            # A caller claiming another address is not believed.
            claim = {"Connection": "close", "X-Forwarded-For": "203.0.113.9"}
            connection.request("GET", "/", headers=claim)
            presented = connection.sock.getpeercert(binary_form=True)
            return connection.getresponse().read().decode(), presented
        finally:
            connection.close()

    try:
        driver.apply(spec(first))
        answer, presented = fetch_tls(first)
        # The member is told who called and that TLS was ended in front of it.
        assert answer == "one https 127.0.0.1"
        assert presented == first.certificate.public_bytes(Encoding.DER)
        (kept,) = (driver.root / "tls").glob("cert-*.pem")
        assert kept.stat().st_mode & 0o777 == 0o600

        driver.apply(spec(second))
        assert fetch_tls(second)[1] == second.certificate.public_bytes(Encoding.DER)
        (kept,) = (driver.root / "tls").glob("cert-*.pem")  # the first one's file is gone

        mismatched = replace(first, key_pem=second.key_pem)
        with pytest.raises(DriverError, match="refused.*(key|certificate)"):
            driver.apply(spec(mismatched))
        assert fetch_tls(second)[1] == second.certificate.public_bytes(Encoding.DER)
        assert [p.name for p in (driver.root / "tls").iterdir() if "cert" in p.name] == [kept.name]
    finally:
        backend.stop()
