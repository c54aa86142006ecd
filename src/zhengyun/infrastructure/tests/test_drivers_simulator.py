"""What only the simulated hypervisor does (R-I3, R-I4): its state shared through a file by
separate processes, failures on demand, hosts going down (with their volumes), power that
follows load, host disk and network counters that follow their guests' I/O (R-I4), and
simulated boot and migration times."""

import subprocess
import sys
import uuid

import pytest

from zhengyun.infrastructure.drivers.base import (
    DriverError,
    FirewallRule,
    GuestNotFound,
    GuestSpec,
    GuestState,
    HostUnavailable,
    Nic,
    VolumeSpec,
    VolumeState,
)
from zhengyun.infrastructure.drivers.simulator import SimulatorDriver
from zhengyun.infrastructure.drivers.simulator_model import (
    FULL_LOAD_BYTES_PER_S,
    HOST_BASELINE_BYTES_PER_S,
)

SMALL = "vcpus=8&memory_mb=16384&disk_gb=500&idle_watts=100&peak_watts=300"


def spec(vcpus=2, memory_mb=4096):
    return GuestSpec(name=str(uuid.uuid4()), vcpus=vcpus, memory_mb=memory_mb, disk_gb=20)


@pytest.fixture
def sim():
    return SimulatorDriver(f"sim://memory?hosts=3&{SMALL}")


def test_hosts_have_deterministic_names_and_the_sizes_asked_for(sim):
    hosts = sim.hosts()
    assert [host.name for host in hosts] == ["sim-0001", "sim-0002", "sim-0003"]
    assert (hosts[0].vcpus, hosts[0].memory_mb, hosts[0].disk_gb) == (8, 16384, 500)
    assert (hosts[0].idle_watts, hosts[0].peak_watts) == (100, 300)


def test_a_state_file_is_shared_by_processes_and_survives_a_restart(tmp_path):
    uri = f"sim://{tmp_path / 'hypervisor.sqlite'}?hosts=2&{SMALL}"
    web = SimulatorDriver(uri)
    guest = spec()
    # The worker is another process: it defines and starts the guest the web process sees.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys;"
            "from zhengyun.infrastructure.drivers.simulator import SimulatorDriver;"
            "from zhengyun.infrastructure.drivers.base import GuestSpec;"
            "worker = SimulatorDriver(sys.argv[1]);"
            "worker.define('sim-0002', GuestSpec(sys.argv[2], 2, 4096, 20));"
            "worker.start(sys.argv[2])",
            uri,
            guest.name,
        ],
        check=True,
    )
    seen = web.guest(guest.name)
    assert (seen.host, seen.state) == ("sim-0002", GuestState.RUNNING)
    volume = web.create_volume("sim-0002", VolumeSpec(str(uuid.uuid4()), 1))
    assert SimulatorDriver(uri).volume(volume.name) == volume
    web.fail_next("stop")
    restarted = SimulatorDriver(uri)
    with pytest.raises(DriverError, match="Simulated failure of stop"):
        restarted.stop(guest.name)  # the failure asked for through the other object
    assert restarted.stop(guest.name).state == GuestState.STOPPED
    assert web.guest(guest.name).state == GuestState.STOPPED


def test_asking_for_more_hosts_adds_the_missing_ones(tmp_path):
    path = tmp_path / "hypervisor.sqlite"
    SimulatorDriver(f"sim://{path}?hosts=2")
    assert len(SimulatorDriver(f"sim://{path}?hosts=5").hosts()) == 5


def test_an_injected_failure_raises_then_the_driver_recovers(sim):
    guest = spec()
    sim.fail_next("define", times=2)
    for _ in range(2):
        with pytest.raises(DriverError, match="before acting"):
            sim.define("sim-0001", guest)
        assert sim.guest(guest.name).state == GuestState.MISSING
    assert sim.define("sim-0001", guest).state == GuestState.STOPPED


def test_a_failure_after_acting_leaves_the_change_for_a_retry_to_find(sim):
    guest = spec()
    sim.define("sim-0001", guest)
    sim.fail_next("start", after=True)  # as when the call times out after the host acted
    with pytest.raises(DriverError, match="after acting"):
        sim.start(guest.name)
    assert sim.guest(guest.name).state == GuestState.RUNNING
    assert sim.start(guest.name).state == GuestState.RUNNING


def test_a_failure_rate_fails_changes_and_not_reads():
    flaky = SimulatorDriver("sim://memory?hosts=1&failure_rate=1")
    guest = spec()
    for _ in range(3):  # before or after acting, by chance: a retry is never told it worked
        with pytest.raises(DriverError, match="Simulated failure of define"):
            flaky.define("sim-0001", guest)
    assert len(flaky.guests()) <= 1 and len(flaky.hosts()) == 1


def test_failures_are_asked_for_by_operation_name(sim):
    with pytest.raises(ValueError, match="not a driver operation"):
        sim.fail_next("explode")


def test_a_host_marked_down_refuses_work_until_it_is_back(sim):
    running = spec()
    sim.define("sim-0001", running)
    sim.start(running.name)
    sim.mark_host_down("sim-0001")
    with pytest.raises(HostUnavailable, match="sim-0001 is down"):
        sim.define("sim-0001", spec())
    for operation in (sim.start, sim.delete, sim.guest_metrics):
        with pytest.raises(HostUnavailable):
            operation(running.name)
    with pytest.raises(HostUnavailable):
        sim.host_metrics("sim-0001")
    with pytest.raises(HostUnavailable):
        sim.live_migrate(running.name, "sim-0002")
    assert sim.guest(running.name).state == GuestState.STOPPED  # it went down with the host
    assert sim.guests() == []  # a host that does not answer lists nothing
    sim.mark_host_up("sim-0001")
    assert sim.guest(running.name).state == GuestState.STOPPED  # as after a power loss
    assert sim.start(running.name).state == GuestState.RUNNING


def test_volume_operations_fail_on_demand_before_or_after_acting(sim):
    guest, volume = spec(), str(uuid.uuid4())
    sim.define("sim-0001", guest)
    sim.fail_next("create_volume")
    with pytest.raises(DriverError, match="Simulated failure of create_volume"):
        sim.create_volume("sim-0001", VolumeSpec(volume, 1))
    assert sim.volume(volume).state == VolumeState.MISSING
    sim.create_volume("sim-0001", VolumeSpec(volume, 1))
    sim.fail_next("attach_volume", after=True)
    with pytest.raises(DriverError, match="after acting"):
        sim.attach_volume(guest.name, volume)
    assert sim.attach_volume(guest.name, volume).guest == guest.name  # the retry finds it
    for operation, arguments in (
        ("detach_volume", (guest.name, volume)),
        ("snapshot_volume", (volume, str(uuid.uuid4()))),
        ("delete_snapshot", (str(uuid.uuid4()),)),
        ("delete_volume", (volume,)),
        ("volume", (volume,)),
        ("volumes", ()),
    ):
        sim.fail_next(operation)
        with pytest.raises(DriverError, match=f"Simulated failure of {operation}"):
            getattr(sim, operation)(*arguments)
    assert sim.volume(volume).guest == guest.name  # failed before acting: still attached


def test_a_host_marked_down_takes_its_volumes_with_it(sim):
    guest, volume, snapshot = spec(), str(uuid.uuid4()), str(uuid.uuid4())
    sim.define("sim-0001", guest)
    sim.create_volume("sim-0001", VolumeSpec(volume, 2))
    sim.snapshot_volume(volume, snapshot)
    sim.mark_host_down("sim-0001")
    for operation, arguments in (
        (sim.create_volume, ("sim-0001", VolumeSpec(str(uuid.uuid4()), 1))),
        (sim.attach_volume, (guest.name, volume)),
        (sim.snapshot_volume, (volume, str(uuid.uuid4()))),
        (sim.delete_snapshot, (snapshot,)),
        (sim.delete_volume, (volume,)),
        (sim.volumes, ("sim-0001",)),
    ):
        with pytest.raises(HostUnavailable, match="sim-0001"):
            operation(*arguments)
    assert sim.volume(volume).state == VolumeState.AVAILABLE  # still known, as guests are
    assert sim.volumes() == []  # a host that does not answer lists nothing
    sim.mark_host_up("sim-0001")
    assert sim.attach_volume(guest.name, volume).device == "vdb"


def test_a_volume_is_attached_only_on_its_own_host_and_migrates_with_its_guest(sim):
    guest, volume, snapshot = spec(), str(uuid.uuid4()), str(uuid.uuid4())
    sim.define("sim-0001", guest)
    sim.create_volume("sim-0002", VolumeSpec(volume, 1))
    with pytest.raises(DriverError, match="on host sim-0002 and guest"):
        sim.attach_volume(guest.name, volume)
    sim.snapshot_volume(volume, snapshot)
    with pytest.raises(DriverError, match="is on host sim-0002, not sim-0001"):
        sim.create_volume("sim-0001", VolumeSpec(str(uuid.uuid4()), 1, snapshot=snapshot))
    sim.live_migrate(guest.name, "sim-0002")
    sim.attach_volume(guest.name, volume)
    sim.live_migrate(guest.name, "sim-0003")
    assert sim.volume(volume).host == "sim-0003"  # local disks are copied with the guest


def test_power_follows_the_linear_model_of_cpu_load(sim):
    assert sim.host_metrics("sim-0001").power_watts == 100  # idle
    guests = [spec(vcpus=4), spec(vcpus=4)]
    for guest in guests:
        sim.define("sim-0001", guest)
        sim.start(guest.name)
        sim.set_load(guest.name, 0.5)
    half = sim.host_metrics("sim-0001")
    assert (half.cpu_percent, half.power_watts, half.running_guests) == (50, 200, 2)
    sim.set_load(guests[0].name, 1.0)
    assert sim.host_metrics("sim-0001").power_watts == 250
    sim.set_load(guests[1].name, 1.0)
    sim.define("sim-0001", extra := spec(vcpus=8))  # overcommitted: the simulator accepts
    sim.start(extra.name)
    sim.set_load(extra.name, 1.0)
    assert sim.host_metrics("sim-0001").power_watts == 300  # peak is the ceiling
    assert sim.guest_metrics(extra.name).cpu_percent == 100


def test_host_io_counters_grow_with_its_guests_io_and_restart_from_zero(sim):
    clock = [1000.0]
    sim.clock = lambda: clock[0]
    guest = spec()
    sim.define("sim-0001", guest)
    sim.start(guest.name)
    sim.set_load(guest.name, 0.5)
    assert sim.host_metrics("sim-0001").disk_read_bytes == 0  # first sample: the start

    clock[0] += 60
    busy = sim.host_metrics("sim-0001")
    for counter, baseline in HOST_BASELINE_BYTES_PER_S.items():
        expected = 60 * (baseline + 0.5 * FULL_LOAD_BYTES_PER_S[counter])
        assert getattr(busy, counter) == pytest.approx(expected)
    clock[0] += 60
    idle = sim.host_metrics("sim-0003")  # another host's counters are its own
    assert idle.disk_read_bytes == 0

    sim.mark_host_down("sim-0001")
    sim.mark_host_up("sim-0001")
    clock[0] += 60
    rebooted = sim.host_metrics("sim-0001")
    assert rebooted.disk_read_bytes == 0 < busy.disk_read_bytes
    clock[0] += 10
    assert (
        sim.host_metrics("sim-0001").disk_write_bytes
        == 10
        * (
            HOST_BASELINE_BYTES_PER_S["disk_write_bytes"]  # its guest stopped with it
        )
    )


def test_boot_and_migration_take_simulated_time(sim):
    small, large = spec(memory_mb=2048), spec(memory_mb=16384)
    for guest in (small, large):
        sim.define("sim-0001", guest)
        sim.start(guest.name)
        sim.set_load(guest.name, 0.2)
        assert sim.durations(guest.name).boot_seconds >= 20
    for guest in (small, large):
        moved = sim.live_migrate(guest.name, "sim-0002")
        assert (moved.host, moved.state) == ("sim-0002", GuestState.RUNNING)
    assert (
        0
        < sim.durations(small.name).migration_seconds
        < sim.durations(large.name).migration_seconds
    )
    assert sim.live_migrate(small.name, "sim-0002").host == "sim-0002"  # a retry is harmless
    assert sim.console_url(small.name).startswith("vnc://sim-0002:59")
    with pytest.raises(GuestNotFound):
        sim.durations(str(uuid.uuid4()))


def test_running_guests_on_a_host_get_their_own_console_ports(sim):
    urls = set()
    for _ in range(3):
        guest = spec()
        sim.define("sim-0003", guest)
        sim.start(guest.name)
        urls.add(sim.console_url(guest.name).split("?")[0])
    assert urls == {"vnc://sim-0003:5900", "vnc://sim-0003:5901", "vnc://sim-0003:5902"}


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("simulator://memory", "Bad simulator URI"),
        ("sim://elsewhere?hosts=1", "Bad simulator URI"),
        ("sim://memory?hosts=1&cores=8", "Unknown simulator URI parameter 'cores'"),
        ("sim://memory?hosts=many", "hosts='many' is not a number"),
        ("sim://memory?vcpus=0", "at least one vCPU"),
    ],
)
def test_a_bad_uri_gets_a_clear_error(uri, message):
    with pytest.raises(DriverError, match=message):
        SimulatorDriver(uri)


def test_an_unwritable_state_file_is_a_host_unavailable(tmp_path):
    with pytest.raises(HostUnavailable, match="cannot open its state file"):
        SimulatorDriver(f"sim://{tmp_path}/missing-directory/state.sqlite")


def test_a_state_file_gone_bad_under_the_driver_is_a_host_unavailable(tmp_path):
    path = tmp_path / "state.sqlite"
    sim = SimulatorDriver(f"sim://{path}?hosts=1")
    for damaged in tmp_path.iterdir():  # the database, its write-ahead log and index
        damaged.write_bytes(b"garbage!" * 512)
    with pytest.raises(HostUnavailable, match="state is unavailable: file is not a database"):
        sim.hosts()


def test_the_firewall_passes_exactly_what_its_rules_allow(sim):
    guest = spec()
    sim.define("sim-0001", guest)
    assert sim.allows(guest.name, "ingress", "tcp", 22, "198.51.100.1")  # never filtered
    sim.apply_firewall(
        guest.name,
        [
            FirewallRule("ingress", "IPv4", "tcp", 22, 22, "10.0.0.0/24"),
            FirewallRule("ingress", "IPv4", "udp", 5000, 5010),
            FirewallRule("ingress", "IPv6", "icmp", remote="fd00::/64"),
            FirewallRule("egress", "IPv4", "any"),
        ],
        ["10.0.0.9"],
    )
    checks = {
        ("ingress", "tcp", 22, "10.0.0.5"): True,
        ("ingress", "tcp", 22, "10.1.0.5"): False,
        ("ingress", "tcp", 23, "10.0.0.5"): False,
        ("ingress", "udp", 5005, "203.0.113.1"): True,
        ("ingress", "udp", 5011, "203.0.113.1"): False,
        ("ingress", "icmp", None, "fd00::7"): True,
        ("ingress", "icmp", None, "10.0.0.5"): False,  # an IPv6 rule
        ("egress", "tcp", 443, "203.0.113.1"): True,
        ("egress", "tcp", 443, "2001:db8::1"): False,  # no IPv6 egress rule
    }
    for (direction, protocol, port, address), expected in checks.items():
        assert sim.allows(guest.name, direction, protocol, port, address) is expected, (
            direction,
            protocol,
            port,
            address,
        )
    sim.apply_firewall(guest.name, [], ["10.0.0.9"])
    assert not sim.allows(guest.name, "egress", "tcp", 443, "203.0.113.1")
    # A guest with no address of its own sends nothing.
    sim.apply_firewall(guest.name, [FirewallRule("egress", "IPv4", "any")], [])
    assert not sim.allows(guest.name, "egress", "tcp", 443, "203.0.113.1")


def test_a_guest_sends_only_from_its_own_addresses(sim):
    guest = spec()
    sim.define("sim-0001", guest)
    everything_out = [FirewallRule("egress", "IPv4", "any"), FirewallRule("egress", "IPv6", "any")]
    sim.apply_firewall(guest.name, everything_out, ["10.0.0.9", "fd00:0:0::9"])
    assert sim.own_addresses(guest.name) == {"10.0.0.9", "fd00::9"}
    assert sim.allows(guest.name, "egress", "tcp", 443, "203.0.113.1", source="10.0.0.9")
    assert sim.allows(guest.name, "egress", "tcp", 443, "2001:db8::1", source="fd00::9")
    # Passing for a neighbour, to get through a rule that admits the neighbour: dropped.
    assert not sim.allows(guest.name, "egress", "tcp", 443, "203.0.113.1", source="10.0.0.8")
    assert not sim.allows(guest.name, "egress", "tcp", 443, "2001:db8::1", source="fd00::8")
    # IPv6 neighbour discovery speaks from the link-local address.
    assert sim.allows(guest.name, "egress", "icmp", None, "ff02::1", source="fe80::1")
    # A source of another IP version than the packet's is no source at all.
    assert not sim.allows(guest.name, "egress", "tcp", 443, "2001:db8::1", source="10.0.0.9")
    sim.apply_firewall(guest.name, everything_out, ["10.0.0.8"])  # replaced whole
    # Without an IPv6 address of its own the guest sends no IPv6, whatever the rules say.
    assert not sim.allows(guest.name, "egress", "tcp", 443, "2001:db8::1")
    assert sim.allows(guest.name, "egress", "tcp", 443, "203.0.113.1")
    assert not sim.allows(guest.name, "egress", "tcp", 443, "203.0.113.1", source="10.0.0.9")
    assert not sim.allows(guest.name, "egress", "icmp", None, "ff02::1", source="fe80::1")


def test_a_deleted_guests_firewall_goes_with_it(sim):
    guest = spec()
    sim.define("sim-0001", guest)
    sim.apply_firewall(guest.name, [], ["10.0.0.9"])
    sim.delete(guest.name)
    assert sim.firewall(guest.name) is None
    assert sim.own_addresses(guest.name) == set()
    sim.define("sim-0001", guest)  # the same name again starts unfiltered
    assert sim.allows(guest.name, "ingress", "tcp", 22, "198.51.100.1")


def test_a_firewall_outlives_the_process_in_a_state_file(tmp_path):
    uri = f"sim://{tmp_path}/state.sqlite?hosts=1&{SMALL}"
    first = SimulatorDriver(uri)
    guest = spec()
    first.define("sim-0001", guest)
    first.apply_firewall(guest.name, [FirewallRule("ingress", "IPv4", "tcp", 80, 80)], ["10.0.0.9"])
    again = SimulatorDriver(uri)
    assert again.allows(guest.name, "ingress", "tcp", 80, "192.0.2.1")
    assert again.own_addresses(guest.name) == {"10.0.0.9"}
    assert not again.allows(guest.name, "ingress", "tcp", 81, "192.0.2.1")


def nic(number, network):
    return Nic(f"52:54:00:0c:00:{number:02x}", network)


def plugged(*nics):
    return GuestSpec(str(uuid.uuid4()), 1, 1024, 10, nics=nics)


def test_guests_of_one_network_share_a_segment_and_other_networks_never_do(sim):
    office, tax = str(uuid.uuid4()), str(uuid.uuid4())
    web, database, other = plugged(nic(1, office)), plugged(nic(2, office)), plugged(nic(3, tax))
    # One network spans hosts, as an overlay between them would.
    sim.define("sim-0001", web)
    sim.define("sim-0002", database)
    sim.define("sim-0001", other)  # the same host, another department's network
    assert sim.neighbours(web.name) == {database.name}
    assert sim.neighbours(database.name) == {web.name}
    assert sim.neighbours(other.name) == set()
    both = plugged(nic(4, office), nic(5, tax))
    sim.define("sim-0003", both)
    assert sim.neighbours(both.name) == {web.name, database.name, other.name}
    sim.delete(database.name)
    assert sim.neighbours(web.name) == {both.name}


def test_a_guest_moves_only_to_a_host_that_has_its_networks(sim):
    network = str(uuid.uuid4())
    guest = plugged(nic(1, network))
    sim.define("sim-0001", guest)
    with pytest.raises(DriverError, match=f"does not have network {network}"):
        sim.live_migrate(guest.name, "sim-0002")
    assert sim.guest(guest.name).host == "sim-0001"
    sim.ensure_network("sim-0002", network)
    assert sim.live_migrate(guest.name, "sim-0002").host == "sim-0002"
    assert sim.guest_nics(guest.name) == list(guest.nics)


def test_a_network_on_a_host_that_is_down_cannot_be_removed(sim):
    network = str(uuid.uuid4())
    sim.ensure_network("sim-0001", network)
    sim.mark_host_down("sim-0001")
    with pytest.raises(HostUnavailable, match="sim-0001"):
        sim.remove_network(network)
    with pytest.raises(HostUnavailable):
        sim.ensure_network("sim-0001", str(uuid.uuid4()))
    sim.mark_host_up("sim-0001")
    sim.remove_network(network)
    assert sim.networks() == []


def test_network_operations_fail_on_demand(sim):
    network = str(uuid.uuid4())
    sim.fail_next("ensure_network", after=True)
    with pytest.raises(DriverError, match="Simulated failure"):
        sim.ensure_network("sim-0001", network)
    sim.ensure_network("sim-0001", network)  # the retry finds it made, and makes no second
    assert sim.networks("sim-0001") == [network]
    sim.fail_next("remove_network")
    with pytest.raises(DriverError, match="Simulated failure"):
        sim.remove_network(network)
    assert sim.networks() == [network]


def test_networks_and_interfaces_outlive_the_process_in_a_state_file(tmp_path):
    uri = f"sim://{tmp_path}/state.sqlite?hosts=2&{SMALL}"
    network = str(uuid.uuid4())
    first, second = plugged(nic(1, network)), plugged(nic(2, network))
    worker = SimulatorDriver(uri)
    worker.define("sim-0001", first)
    worker.define("sim-0002", second)
    restarted = SimulatorDriver(uri)
    assert restarted.guest_nics(first.name) == list(first.nics)
    assert restarted.networks() == [network]
    assert restarted.neighbours(first.name) == {second.name}
