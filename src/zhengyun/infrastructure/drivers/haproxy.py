"""Load balancers realised by HAProxy (R-I3): one haproxy process per load balancer, its
configuration, pid file and stats socket in a directory of its own.

``apply`` renders the configuration, has ``haproxy -c`` check it, and starts the process or
reloads it softly (a new process takes the listening sockets over, the old one finishes its
connections: ``-sf``); a configuration haproxy refuses leaves the running one untouched.
``health`` reads ``show stat`` from the stats socket. An HTTPS listener's certificate and key
are written beside the configuration in a file only this user may read.

Each configuration has its stats socket at a path of its own (named by a digest of the
configuration): a reload that fails would otherwise leave the socket's path to the process
that failed, and the running one could no longer be asked for its members' health. A reload
that fails has paused the running process's listeners while it tried their ports; ``apply``
reports the failure only once they are open again.

URI: ``haproxy:///absolute/state/dir`` (``?binary=/usr/sbin/haproxy`` to choose the
program). The process binds the virtual address, so on a balancer node that address must be
configured on an interface (keepalived moves it between two nodes).
"""

import contextlib
import csv
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from . import haproxy_config
from .balancer_base import BalancerDriver, BalancerNotFound, MemberHealth
from .base import DriverError

STOP_WAIT_S = 5
COMMAND_TIMEOUT_S = 30


class HAProxyDriver(BalancerDriver):
    """One haproxy process per load balancer under a state directory."""

    def __init__(self, uri: str):
        super().__init__(uri)
        parts = urlsplit(uri)
        if parts.scheme != "haproxy" or not parts.path.startswith("/"):
            raise DriverError(f"Write a HAProxy balancer URI as haproxy:///state/dir, not {uri!r}.")
        self.root = Path(parts.path)
        binary = parse_qs(parts.query).get("binary", ["haproxy"])[0]
        self.binary = shutil.which(binary)
        if self.binary is None:
            raise DriverError(f"HAProxy ({binary}) is not installed on this machine.")

    def _dir(self, name):
        if not name or "/" in name or name.startswith("."):
            raise DriverError(f"Not a load balancer name: {name!r}.")
        return self.root / name

    def apply(self, spec):
        directory = self._dir(spec.name)
        directory.mkdir(parents=True, exist_ok=True)
        try:
            self._apply(directory, spec)
        finally:
            _forget_unused_certificates(directory)

    def _apply(self, directory, spec):
        config = directory / "haproxy.cfg"
        certificates = _write_certificates(directory, spec)
        digest = hashlib.sha256(haproxy_config.render(spec, "", certificates).encode()).hexdigest()[
            :12
        ]
        stats = directory / f"stats-{digest}.sock"
        text = haproxy_config.render(spec, stats, certificates)
        pid = _running_pid(directory)
        if pid and config.exists() and config.read_text() == text:
            return  # already carried out
        candidate = directory / "haproxy.cfg.new"
        candidate.write_text(text)
        self._run("-c", "-f", str(candidate), what="The configuration was refused")
        reload = ("-sf", str(pid)) if pid else ()
        try:
            self._run(
                "-D",
                "-f",
                str(candidate),
                "-p",
                str(directory / "haproxy.pid"),
                *reload,
                what="HAProxy did not start",
            )
        except DriverError:
            stats.unlink(missing_ok=True)  # left by the process that failed
            if pid:
                _wait_resumed(_stats_socket(config))
            raise
        # Recorded as carried out only once a process runs it: a start that failed, or a
        # worker killed before this line, leaves the next apply to try again.
        candidate.replace(config)
        for old in directory.glob("stats*.sock"):
            if old != stats:
                old.unlink(missing_ok=True)  # the previous process's, finishing its connections

    def remove(self, name):
        directory = self._dir(name)
        pid = _running_pid(directory)
        if pid:
            with contextlib.suppress(ProcessLookupError):  # it may exit meanwhile
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + STOP_WAIT_S
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)

    def health(self, name):
        directory = self._dir(name)
        if not _running_pid(directory):
            raise BalancerNotFound(f"No HAProxy runs for load balancer {name!r}.")
        return {
            row["svname"]: _health(row["status"])
            for row in _stat_rows(_stats_socket(directory / "haproxy.cfg"))
            if row.get("svname") not in (None, "FRONTEND", "BACKEND")
        }

    def _run(self, *args, what):
        try:
            done = subprocess.run(
                [self.binary, *args],
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
                # Not the worker's environment: a configuration may name "${…}" variables.
                env={"PATH": os.environ.get("PATH", "")},
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DriverError(f"{what}: {exc}") from None
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise DriverError(f"{what}: {' '.join(said)}"[:500])


def _write_certificates(directory, spec):
    """The file of each HTTPS listener's chain and key, by port: named by a digest of what
    it holds, so a new certificate is a new file and a changed configuration, and readable
    by this user alone."""
    paths = {}
    for listener in spec.listeners:
        if listener.protocol != "https":
            continue
        content = f"{listener.certificate.strip()}\n{listener.private_key.strip()}\n"
        digest = hashlib.sha256(content.encode()).hexdigest()[:16]
        path = directory / f"cert-{listener.port}-{digest}.pem"
        if not path.exists():
            partial = path.with_suffix(".partial")
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(descriptor, 0o600)  # a partial file left by a killed worker included
            with os.fdopen(descriptor, "wb") as file:
                file.write(content.encode())
                file.flush()
                os.fsync(file.fileno())
            partial.replace(path)
        paths[listener.port] = path
    return paths


def _forget_unused_certificates(directory):
    """Remove the certificate files the running configuration does not name: haproxy reads
    them at start, so once a new process runs, the old one needs its files no more, and a
    configuration that was refused leaves its own behind."""
    try:
        running = (directory / "haproxy.cfg").read_text()
    except OSError:
        running = ""
    for path in [*directory.glob("cert-*.pem"), *directory.glob("cert-*.partial")]:
        if path.suffix == ".partial" or path.name not in running:
            path.unlink(missing_ok=True)


def _health(status):
    # "UP", "UP 1/3" (going down), "DOWN", "DOWN 1/2" (coming up), "no check", "MAINT" …
    if status.startswith("UP"):
        return MemberHealth.UP
    if status.startswith("DOWN"):
        return MemberHealth.DOWN
    return MemberHealth.UNKNOWN


def _stats_socket(config):
    try:
        found = re.search(r"^\s*stats socket (\S+)", config.read_text(), re.MULTILINE)
    except OSError:
        found = None
    if found is None:
        raise DriverError(f"{config} names no stats socket.")
    return found.group(1)


def _stat_rows(socket_path):
    return list(csv.DictReader(_ask(socket_path, "show stat").lstrip("# ").splitlines()))


def _wait_resumed(socket_path):
    # The failed process resumes the running one's listeners with a signal as it exits,
    # which the running process acts on a moment later.
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        rows = _stat_rows(socket_path)
        if not any(row["svname"] == "FRONTEND" and row["status"] == "PAUSED" for row in rows):
            return
        time.sleep(0.02)
    raise DriverError("HAProxy did not reopen the running configuration's listeners.")


def _ask(path, command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(5)
        try:
            conn.connect(str(path))
            conn.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        except OSError as exc:
            raise DriverError(f"HAProxy's stats socket did not answer: {exc}") from None
    return b"".join(chunks).decode()


def _running_pid(directory):
    try:
        pid = int((directory / "haproxy.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def _alive(pid):
    # The pid file may outlive its process and the number be reused: check it is haproxy.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().split()
        return "haproxy" in fields[1] and fields[2] != "Z"
    except OSError:
        return False
