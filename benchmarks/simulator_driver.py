"""Speed of the simulated hypervisor (R-I4): how long making 10,000 hosts takes, and how many
guests a second it defines and starts, how many volumes a second it creates and attaches to
them, then how many guests a second it deletes, one guest with one volume per host. Each
figure is the median of three rounds, each round on a fresh hypervisor; printed as a
markdown table. In memory is what tests and the scheduler benchmark use; a state file is the
embedded platform's default, where every change is a durable SQLite transaction.

    python benchmarks/simulator_driver.py
"""

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from zhengyun.infrastructure.drivers.base import GuestSpec, VolumeSpec  # noqa: E402
from zhengyun.infrastructure.drivers.simulator import SimulatorDriver  # noqa: E402

HOSTS = 10_000
ROUNDS = 3
FILE_GUESTS = 1_000  # each change waits for the disk


def one_round(uri, guests):
    """(seconds to make the hosts, define+start per second, create+attach volume per
    second, delete per second)."""
    started = time.perf_counter()
    driver = SimulatorDriver(uri)
    made = time.perf_counter() - started
    hosts = [host.name for host in driver.hosts()]
    specs = [GuestSpec(str(uuid.uuid4()), 2, 4096, 40) for _ in range(guests)]
    started = time.perf_counter()
    for host, spec in zip(hosts, specs, strict=False):
        driver.define(host, spec)
        driver.start(spec.name)
    define_rate = guests / (time.perf_counter() - started)
    started = time.perf_counter()
    for host, spec in zip(hosts, specs, strict=False):
        driver.create_volume(host, VolumeSpec(spec.name, 100))
        driver.attach_volume(spec.name, spec.name)
    volume_rate = guests / (time.perf_counter() - started)
    started = time.perf_counter()
    for spec in specs:
        driver.delete(spec.name)
    return made, define_rate, volume_rate, guests / (time.perf_counter() - started)


def median_round(uri_of_round, guests):
    """Medians over ROUNDS rounds, each on the fresh hypervisor ``uri_of_round(n)``."""
    rounds = [one_round(uri_of_round(number), guests) for number in range(ROUNDS)]
    return [statistics.median(column) for column in zip(*rounds, strict=True)]


def main():
    print(
        "| state | hosts | guests | make the hosts (s) | define+start /s "
        "| create+attach volume /s | delete /s |"
    )
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        rows = [
            ("memory", HOSTS, median_round(lambda _: f"sim://memory?hosts={HOSTS}", HOSTS)),
            (
                "SQLite file",
                FILE_GUESTS,
                median_round(lambda n: f"sim://{scratch}/{n}.sqlite?hosts={HOSTS}", FILE_GUESTS),
            ),
        ]
    for label, guests, (made, define_rate, volume_rate, delete_rate) in rows:
        print(
            f"| {label} | {HOSTS:,} | {guests:,} | {made:.2f} "
            f"| {define_rate:,.0f} | {volume_rate:,.0f} | {delete_rate:,.0f} |"
        )


if __name__ == "__main__":
    main()
