"""haproxy.cfg for one load balancer: a frontend per listener on the virtual address (an
HTTPS one ending TLS with its certificate file), a backend per pool with its algorithm,
members and health check (HAProxy 2.6 syntax)."""

import ipaddress

from zhengyun.infrastructure.models.balancing import HTTP_PATH

BALANCE = {"round_robin": "roundrobin", "least_connections": "leastconn", "source_ip": "source"}
MODE = {"tcp": "tcp", "http": "http", "https": "http"}


def render(spec, stats_socket, certificates=None):
    """The whole configuration of ``spec``, its stats socket at ``stats_socket``; the
    certificate file of each HTTPS listener in ``certificates`` by port."""
    certificates = certificates or {}
    lines = [
        "global",
        f"    stats socket {stats_socket} mode 600 level admin",
        # Two departments may use the same private range, hence the same virtual address:
        # a second bind must fail rather than share the port's connections.
        "    noreuseport",
        "    maxconn 4096",
        "",
        "defaults",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        "",
    ]
    for listener in spec.listeners:
        lines += _listener(spec.vip, listener, certificates.get(listener.port))
    return "\n".join(lines) + "\n"


def _listener(vip, listener, certificate):
    name = f"l{listener.port}"
    mode = MODE[listener.protocol]
    bind = f"    bind {_endpoint(vip, listener.port)}"
    forwarded = []
    if listener.protocol == "https":
        bind += f" ssl crt {certificate}"
    if mode == "http":
        # The members learn who called and whether TLS was ended here, never from the caller.
        forwarded = [
            "    http-request del-header X-Forwarded-For",
            "    option forwardfor",
            f"    http-request set-header X-Forwarded-Proto {listener.protocol}",
        ]
    lines = [
        f"frontend {name}",
        f"    mode {mode}",
        bind,
        *forwarded,
        f"    default_backend {name}",
        "",
        f"backend {name}",
        f"    mode {mode}",
        f"    balance {BALANCE[listener.algorithm]}",
    ]
    monitor = listener.monitor
    check = ""
    if monitor is not None:
        lines.append(f"    timeout check {monitor.timeout_s}s")
        if monitor.type == "http":
            if not HTTP_PATH.fullmatch(monitor.http_path):
                raise ValueError(f"unsafe health-check path {monitor.http_path!r}")
            lines.append(f"    option httpchk GET {monitor.http_path}")
            lines.append(f"    http-check expect {_expect(monitor.expected_codes)}")
        retries = monitor.max_retries
        check = f" check inter {monitor.interval_s}s fall {retries} rise {retries}"
    for member in listener.members:
        lines.append(
            f"    server {member.name} {_endpoint(member.address, member.port)}"
            f" weight {member.weight}{check}"
        )
    return [*lines, ""]


def _endpoint(address, port):
    # HAProxy takes the port after the last colon, so IPv6 needs its family prefix.
    family = "ipv6@" if ipaddress.ip_address(address).version == 6 else ""
    return f"{family}{address}:{port}"


def _expect(codes):
    if len(codes) == 1:
        return f"status {codes[0]}"
    return "rstatus ^(" + "|".join(str(code) for code in codes) + ")$"
