"""HTTP requests to addresses the platform's users name — subscribers' webhooks, providers'
upstream services (R-A4, R-D3) — made so that such an address reaches only what it names:
the name is resolved once and every address it gives is checked, the connection is made to
the checked address (a name that resolves elsewhere a moment later is not followed), TLS is
verified against the name, redirects are not followed, and at most ``max_answer`` bytes of
the answer are read, within about ``timeout`` seconds from the first byte however slowly
they come.

Closed: loopback (unless the caller allows it, for a development or test setup), link-local,
multicast, unspecified and reserved addresses, IPv4 addresses written as IPv6, and the
metadata services clouds answer on inside their networks, and the networks the operator
closes (``ZHENGYUN_OUTBOUND_CLOSED_NETWORKS``: the platform's own, say). Private ranges stay
open otherwise: the departments' systems live on the government extranet's.
"""

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

# Cloud metadata services outside the link-local range (Alibaba Cloud's, AWS's IPv6 one).
METADATA = (ipaddress.ip_network("100.100.100.200/32"), ipaddress.ip_network("fd00:ec2::254/128"))


class Unreachable(Exception):
    """The address could not be reached this time (no name, no connection, no answer)."""


class Closed(Exception):
    """The address is one the platform never sends to."""


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    complete: bool  # False when the answer was longer than the bytes read


def closed(address, *, allow_loopback=False):
    """Whether requests are never sent to ``address`` (an ``ipaddress`` address)."""
    address = getattr(address, "ipv4_mapped", None) or address
    if any(address in network for network in settings.ZHENGYUN_OUTBOUND_CLOSED_NETWORKS):
        return True
    if address.is_loopback:
        return not allow_loopback
    return (
        address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or any(address in network for network in METADATA)
    )


def request(method, url, *, timeout, max_answer, body=None, headers=None, allow_loopback=False):
    """Send ``method`` to ``url``; the ``Answer``. Raises ``Closed`` or ``Unreachable``."""
    try:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        host = parts.hostname.encode("idna").decode("ascii")
    except (ValueError, UnicodeError, AttributeError) as exc:
        raise Unreachable(f"not an address: {exc}") from None
    address = checked_address(parts.hostname, port, allow_loopback=allow_loopback)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    limits = urllib3.Timeout(connect=timeout, read=timeout)
    if secure:
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=limits,
            retries=False,
            maxsize=1,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            ssl_context=ssl.create_default_context(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=limits, retries=False, maxsize=1)
    try:
        answer = pool.urlopen(
            method,
            path,
            body=body,
            headers={**(headers or {}), "Host": _host_header(host, parts.port)},
            redirect=False,
            preload_content=False,
        )
        content = _read(answer, max_answer + 1, deadline=time.monotonic() + timeout)
        return Answer(
            status=answer.status,
            content_type=answer.headers.get("Content-Type", ""),
            body=content[:max_answer],
            complete=len(content) <= max_answer,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise Unreachable(f"{type(exc).__name__}: {exc}") from None
    finally:
        pool.close()


def _host_header(host, port):
    named = f"[{host}]" if ":" in host else host  # an IPv6 address in brackets
    return named if port is None else f"{named}:{port}"


def _read(answer, limit, deadline):
    """Up to ``limit`` bytes of the answer; ``Unreachable`` past the deadline, so an answer
    trickling a byte at a time cannot hold the caller (the timeout bounds each read only)."""
    content = bytearray()
    while len(content) < limit:
        chunk = answer.read1(min(64 * 1024, limit - len(content)))  # what one read brings
        if not chunk:
            break
        content += chunk
        if time.monotonic() > deadline:
            raise Unreachable("answer too slow")
    return bytes(content)


def checked_address(host, port, *, allow_loopback=False):
    """The address to connect to for ``host``, resolved once; ``Closed`` when any address
    it resolves to is closed, ``Unreachable`` when it resolves to none."""
    if not host:
        raise Unreachable("no host named")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unreachable(f"name not resolved: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    if not addresses or any(closed(a, allow_loopback=allow_loopback) for a in addresses):
        raise Closed("address not allowed")
    return str(addresses[0])
