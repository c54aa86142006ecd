"""Requests to addresses users name (R-A4, R-D3) end in bounded time and never reach a
closed address, however the answer comes or the address is written."""

import socket
import threading
import time

import pytest

from zhengyun.core import outbound


@pytest.fixture
def trickling_server():
    """Answers 200, then sends its body one byte every 0.3 s for a long while."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(100):
                try:
                    connection.sendall(b"x")
                except OSError:
                    return
                time.sleep(0.3)

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    listener.close()


def test_an_answer_trickling_in_is_given_up_after_about_the_timeout(trickling_server):
    started = time.monotonic()

    with pytest.raises(outbound.Unreachable, match="too slow"):
        outbound.request("GET", trickling_server, timeout=1, max_answer=10_000, allow_loopback=True)

    assert time.monotonic() - started < 3  # each byte came well within the timeout


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/",
        "http://[::1/",
        "http:///nothing",
    ],
)
def test_an_address_that_cannot_be_called_is_unreachable_not_an_error(url):
    with pytest.raises(outbound.Unreachable):
        outbound.request("GET", url, timeout=1, max_answer=10, allow_loopback=True)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::ffff:127.0.0.1", "169.254.169.254", "100.100.100.200", "fd00:ec2::254"],
)
def test_loopback_link_local_and_metadata_addresses_are_closed(address):
    with pytest.raises(outbound.Closed):
        outbound.checked_address(address, 80)
