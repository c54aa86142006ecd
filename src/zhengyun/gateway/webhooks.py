"""Posting one delivery to a subscriber's address, so that an address can reach only what
it names: the name is resolved once and every address it gives is checked, the connection
is made to the checked address (a name that resolves elsewhere a moment later is not
followed), TLS is verified against the name, redirects are not followed, and at most
``MAX_ANSWER`` bytes of the answer are read.

Closed to deliveries: loopback (unless ``ZHENGYUN_WEBHOOK_ALLOW_LOOPBACK``), link-local,
multicast, unspecified and reserved addresses, IPv4 addresses written as IPv6, and the
metadata services clouds answer on inside their networks. Private ranges stay open: the
departments' systems live on the government extranet's.
"""

import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

MAX_ANSWER = 64 * 1024
# Cloud metadata services outside the link-local range (Alibaba Cloud's, AWS's IPv6 one).
METADATA = (ipaddress.ip_network("100.100.100.200/32"), ipaddress.ip_network("fd00:ec2::254/128"))


class Unreachable(Exception):
    """The address could not be posted to this time (no name, no connection, no answer)."""


class Closed(Exception):
    """The address is one deliveries are never posted to."""


def closed(address):
    """Whether deliveries are never posted to ``address`` (an ``ipaddress`` address)."""
    address = getattr(address, "ipv4_mapped", None) or address
    if address.is_loopback:
        return not settings.ZHENGYUN_WEBHOOK_ALLOW_LOOPBACK
    return (
        address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or any(address in network for network in METADATA)
    )


def post(url, body, headers, timeout):
    """POST ``body`` to ``url``; the answer's status. Raises ``Closed`` or ``Unreachable``."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    address = _checked_address(parts.hostname, port)
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
            "POST",
            path,
            body=body,
            headers={**headers, "Host": parts.netloc.rpartition("@")[2]},
            redirect=False,
            preload_content=False,
        )
        answer.read(MAX_ANSWER)
        return answer.status
    except urllib3.exceptions.HTTPError as exc:
        raise Unreachable(f"{type(exc).__name__}: {exc}") from None
    finally:
        pool.close()


def _checked_address(host, port):
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unreachable(f"name not resolved: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    if not addresses or any(closed(a) for a in addresses):
        raise Closed("address not allowed")
    return str(addresses[0])
