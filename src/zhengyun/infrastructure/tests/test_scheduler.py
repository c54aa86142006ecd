"""The placement scheduler (R-I4): filters, weighers, the decision record and the accounting,
without a database."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhengyun.infrastructure.scheduler import (
    FILTERS,
    HostState,
    NoRoom,
    PlacementRequest,
    Scheduler,
    explain,
)
from zhengyun.infrastructure.scheduler.filters import (
    AffinityFilter,
    AntiAffinityFilter,
    CapacityFilter,
    DedicatedPoolFilter,
    EnabledFilter,
    NetworkFilter,
    ProtectionLevelFilter,
    ZoneFilter,
)
from zhengyun.infrastructure.scheduler.weighers import UtilisationWeigher

GIB = 1024


def host(name="h1", pool="p1", **kwargs):
    values = {
        "zone": "z1",
        "vcpus": 16,
        "memory_mb": 64 * GIB,
        "disk_gb": 1000,
        "networks": frozenset({"gov_extranet"}),
        "protection_level": 3,
    }
    values.update(kwargs)
    return HostState(name=name, pool=pool, **values)


def request(**kwargs):
    values = {"vcpus": 2, "memory_mb": 4 * GIB, "disk_gb": 40}
    values.update(kwargs)
    return PlacementRequest(**values)


def reason(filter_, host_, request_):
    return filter_.reason % filter_.reason_params(host_, request_)


# Each filter on its own.


def test_zone_filter_takes_its_zone_or_any_and_names_both_zones():
    zone = ZoneFilter()
    assert zone.host_passes(host(zone="z1"), request(zone="z1"))
    assert zone.host_passes(host(zone="z1"), request(zone=None))
    assert not zone.host_passes(host(zone="z2"), request(zone="z1"))
    assert reason(zone, host(zone="z2"), request(zone="z1")) == (
        "The pool is in zone z2, not in zone z1 asked for."
    )


def test_network_filter_needs_every_network_and_names_the_missing_ones():
    network = NetworkFilter()
    extranet_and_internet = host(networks=frozenset({"gov_extranet", "internet"}))
    assert network.host_passes(extranet_and_internet, request(networks={"gov_extranet"}))
    assert not network.host_passes(
        extranet_and_internet, request(networks={"gov_internal", "gov_extranet"})
    )
    assert reason(network, extranet_and_internet, request(networks={"gov_internal"})) == (
        "The pool does not reach gov_internal."
    )


def test_protection_level_filter_refuses_a_pool_certified_lower():
    level = ProtectionLevelFilter()
    assert level.host_passes(host(protection_level=3), request(protection_level=3))
    assert level.host_passes(host(protection_level=4), request(protection_level=3))
    assert not level.host_passes(host(protection_level=2), request(protection_level=3))
    assert "level 2" in reason(level, host(protection_level=2), request(protection_level=3))


def test_dedicated_pool_filter_takes_only_its_department_and_shared_pools_take_all():
    dedicated = DedicatedPoolFilter()
    assert dedicated.host_passes(host(dedicated_to=7), request(department=7))
    assert not dedicated.host_passes(host(dedicated_to=7), request(department=8))
    assert dedicated.host_passes(host(dedicated_to=None), request(department=7))
    assert reason(dedicated, host(dedicated_to=7), request(department=8)) == (
        "The pool is dedicated to another department."
    )


def test_enabled_filter_refuses_a_host_in_maintenance():
    enabled = EnabledFilter()
    assert enabled.host_passes(host(), request())
    assert not enabled.host_passes(host(enabled=False), request())
    assert reason(enabled, host(enabled=False), request()) == "The host is in maintenance."


def test_capacity_filter_counts_ratios_and_reserved():
    capacity = CapacityFilter()
    # 16 cores at 4.0 less 4 reserved: 60 vCPUs; 64 GiB at 1.0 less 4 GiB reserved: 60 GiB.
    machine = host(
        cpu_ratio=4.0, ram_ratio=1.0, reserved_vcpus=4, reserved_memory_mb=4 * GIB, disk_gb=100
    )
    assert capacity.host_passes(machine, request(vcpus=60, memory_mb=60 * GIB, disk_gb=100))
    assert not capacity.host_passes(machine, request(vcpus=61, memory_mb=GIB))
    assert not capacity.host_passes(machine, request(vcpus=1, memory_mb=60 * GIB + 1))
    assert not capacity.host_passes(machine, request(disk_gb=101))
    machine.used_vcpus = 58
    assert capacity.host_passes(machine, request(vcpus=2))
    assert not capacity.host_passes(machine, request(vcpus=3))
    assert reason(capacity, machine, request(vcpus=3)).startswith(
        "No host has room for 3 vCPUs, 4096 MB of memory and 40 GB of disk; "
        "the largest free amounts on its hosts are 2 vCPUs"
    )


def test_affinity_filters_follow_the_hosts_of_the_group():
    together = AffinityFilter()
    apart = AntiAffinityFilter()
    first = request(group="web", group_policy="affinity", group_hosts=frozenset())
    assert together.host_passes(host("h1"), first)
    joined = request(group="web", group_policy="affinity", group_hosts=frozenset({"h1"}))
    assert together.host_passes(host("h1"), joined)
    assert not together.host_passes(host("h2"), joined)
    separate = request(group="db", group_policy="anti-affinity", group_hosts=frozenset({"h1"}))
    assert not apart.host_passes(host("h1"), separate)
    assert apart.host_passes(host("h2"), separate)
    assert reason(apart, host("h1"), separate) == "The host already runs a member of group db."
    assert together.host_passes(host("h2"), separate) and apart.host_passes(host("h2"), joined)


def test_every_filter_has_a_name_a_reason_and_a_place_in_the_record():
    names = [f.name for f in FILTERS]
    assert len(set(names)) == len(names)
    assert all(f.reason for f in FILTERS)


# The scheduler.


def pools_of_levels():
    return [host(f"l2-{i}", "level2", protection_level=2) for i in range(50)] + [
        host("l3-0", "level3", protection_level=3)
    ]


def test_a_level_3_system_never_lands_on_a_pool_certified_for_level_2():
    scheduler = Scheduler(pools_of_levels())
    placed = [scheduler.place(request(protection_level=3, memory_mb=GIB)) for _ in range(64)]
    assert {d.host.pool for d in placed if d.host} == {"level3"}
    last = placed[-1]
    assert last.host is None  # the level-3 pool is full; level 2 hosts stay unused
    level = last.rejected_by("protection_level")
    assert (level.rejected_hosts, level.rejected_pools, level.pools) == (50, 1, ("level2",))
    assert {r.pool: r.filter for r in last.reasons} == {
        "level2": "protection_level",
        "level3": "capacity",
    }


def test_a_dedicated_pool_takes_only_its_department():
    scheduler = Scheduler(
        [host(f"d{i}", "dedicated", dedicated_to=7) for i in range(3)]
        + [host(f"s{i}", "shared") for i in range(3)]
    )
    for _ in range(20):
        assert scheduler.place(request(department=8)).host.pool == "shared"
    other = scheduler.select(request(department=8))
    assert other.rejected_by("dedicated").rejected_hosts == 3
    own = scheduler.select(request(department=7))
    assert own.rejected_by("dedicated").rejected_hosts == 0
    # Both pools pack; the shared one is fuller, so the department's instance joins it.
    assert own.host.pool == "shared"
    for _ in range(3 * 15):
        scheduler.place(request(department=8, memory_mb=GIB, vcpus=1))
    assert scheduler.place(request(department=7)).host.pool in {"shared", "dedicated"}


def test_pack_chooses_the_fullest_host_that_fits():
    scheduler = Scheduler(
        [
            host("empty"),
            host("half", used_memory_mb=32 * GIB),
            host("nearly-full", used_memory_mb=62 * GIB),
            host("fuller", used_memory_mb=48 * GIB, used_vcpus=8),
        ]
    )
    decision = scheduler.select(request(memory_mb=4 * GIB))
    assert decision.host.name == "fuller"
    assert [w["host"] for w in decision.weights] == ["fuller", "half", "empty"]
    assert decision.weights[0]["weight"] == pytest.approx(0.75)
    assert decision.rejected_by("capacity").hosts == ("nearly-full",)
    assert scheduler.select(request(memory_mb=GIB)).host.name == "nearly-full"


def test_spread_chooses_the_emptiest_host_that_fits():
    hosts = [
        host("empty", policy="spread"),
        host("half", policy="spread", used_memory_mb=32 * GIB),
        host("nearly-full", policy="spread", used_memory_mb=62 * GIB),
    ]
    scheduler = Scheduler(hosts)
    decision = scheduler.select(request())
    assert decision.host.name == "empty"
    assert decision.weights[0] == pytest.approx(
        {
            "host": "empty",
            "pool": "p1",
            "cpu": 0,
            "ram": 0,
            "disk": 0,
            "utilisation": 0,
            "multiplier": -1.0,
            "standby": False,
            "weight": 0,
        }
    )
    # Spread fills evenly: four instances land on four different hosts of equal use.
    scheduler = Scheduler([host(f"s{i}", policy="spread") for i in range(4)])
    assert len({scheduler.place(request()).host.name for _ in range(4)}) == 4


def test_pack_pools_take_a_request_before_spread_pools_while_they_have_room():
    scheduler = Scheduler(
        [host("spread-1", "ha", policy="spread"), host("pack-1", "green", memory_mb=8 * GIB)]
    )
    assert scheduler.place(request(memory_mb=4 * GIB)).host.name == "pack-1"
    assert scheduler.place(request(memory_mb=4 * GIB)).host.name == "pack-1"
    overflow = scheduler.place(request(memory_mb=4 * GIB))
    assert overflow.host.name == "spread-1"
    assert overflow.rejected_by("capacity").hosts == ("pack-1",)


def test_empty_hosts_are_chosen_last_under_pack_and_in_a_stable_order():
    scheduler = Scheduler([host(f"h{i}") for i in range(5)])
    assert [scheduler.place(request(memory_mb=32 * GIB)).host.name for _ in range(4)] == [
        "h0",
        "h0",
        "h1",
        "h1",
    ]


@pytest.mark.parametrize("policy", ["pack", "spread"])
def test_a_standby_host_is_woken_only_when_no_running_host_has_room(policy):
    scheduler = Scheduler(
        [
            host("asleep", policy=policy, standby=True),
            host("running", policy=policy, used_memory_mb=48 * GIB),
            host("empty", policy=policy),
        ]
    )
    decision = scheduler.select(request(memory_mb=8 * GIB))
    assert decision.host.name == ("running" if policy == "pack" else "empty")
    assert [w["host"] for w in decision.weights][-1] == "asleep"
    assert decision.weights[-1]["standby"] is True
    assert decision.weights[-1]["weight"] < -1  # below any running host's weight

    woken = scheduler.place(request(memory_mb=60 * GIB))  # only the empty hosts have room
    assert woken.host.name == "empty"
    woken = scheduler.place(request(memory_mb=60 * GIB))
    assert woken.host.name == "asleep"
    assert scheduler.host("asleep").standby is False  # in use again, ranked as running


def test_a_running_host_of_a_spread_pool_is_chosen_before_waking_a_pack_host():
    scheduler = Scheduler(
        [host("asleep", "green", standby=True), host("awake", "ha", policy="spread")]
    )
    assert scheduler.place(request()).host.name == "awake"
    assert scheduler.place(request(memory_mb=60 * GIB)).host.name == "awake"  # full now
    assert scheduler.place(request()).host.name == "asleep"


def test_anti_affinity_puts_group_members_on_different_hosts():
    scheduler = Scheduler([host(f"h{i}") for i in range(3)])
    member = request(group="db", group_policy="anti-affinity")
    chosen = [scheduler.place(member).host.name for _ in range(3)]
    assert sorted(chosen) == ["h0", "h1", "h2"]
    fourth = scheduler.place(member)
    assert fourth.host is None
    assert fourth.rejected_by("anti_affinity").rejected_hosts == 3
    assert {r.filter for r in fourth.reasons} == {"anti_affinity"}
    scheduler.release("h1", member)
    assert scheduler.place(member).host.name == "h1"


def test_affinity_puts_group_members_on_the_same_host():
    scheduler = Scheduler([host(f"h{i}", policy="spread") for i in range(3)])
    member = request(group="web", group_policy="affinity")
    first = scheduler.place(member).host.name
    assert all(scheduler.place(member).host.name == first for _ in range(5))
    full = scheduler.place(request(group="web", group_policy="affinity", vcpus=60))
    assert full.host is None
    assert full.rejected_by("affinity").rejected_hosts == 2
    assert [(r.pool, r.filter) for r in full.reasons] == [("p1", "capacity")]


def test_a_request_no_host_can_take_names_each_pool_and_its_filter():
    hosts = [
        host("a1", "other-zone", zone="z2"),
        host("b1", "internet-only", networks=frozenset({"internet"})),
        host("c1", "level-2", protection_level=2),
        host("d1", "dedicated", dedicated_to=99),
        host("e1", "maintenance", enabled=False),
        host("f1", "small", memory_mb=2 * GIB),
        host("f2", "small", memory_mb=2 * GIB),
    ]
    decision = Scheduler(hosts).select(
        request(zone="z1", networks={"gov_extranet"}, protection_level=3, department=1)
    )
    assert decision.host is None
    assert [(r.pool, r.filter) for r in decision.reasons] == [
        ("other-zone", "zone"),
        ("internet-only", "network"),
        ("level-2", "protection_level"),
        ("dedicated", "dedicated"),
        ("maintenance", "enabled"),
        ("small", "capacity"),
    ]
    counts = {f.filter: f.rejected_hosts for f in decision.filters}
    assert counts == {
        "zone": 1,
        "network": 1,
        "protection_level": 1,
        "dedicated": 1,
        "enabled": 1,
        "affinity": 0,
        "anti_affinity": 0,
        "capacity": 2,
    }
    assert decision.messages()[-1] == (
        "small: No host has room for 2 vCPUs, 4096 MB of memory and 40 GB of disk; the largest "
        "free amounts on its hosts are 64 vCPUs, 2048 MB and 1000 GB."
    )
    translated = decision.messages(translate=lambda template: "译 " + template)
    assert translated[0] == "other-zone: 译 The pool is in zone z2, not in zone z1 asked for."
    assert explain(json.loads(json.dumps(decision.as_dict()))) == decision.messages()


def test_a_host_in_maintenance_gets_nothing_until_it_comes_back():
    machine = host("h1")
    scheduler = Scheduler([machine, host("h2", memory_mb=8 * GIB)])
    machine.enabled = False
    scheduler.update(machine)
    assert scheduler.select(request()).host.name == "h2"
    machine.enabled = True
    scheduler.update(machine)
    assert scheduler.select(request()).host.name == "h1"  # known first, equally empty


def test_hosts_of_one_pool_must_share_what_the_pool_decides():
    with pytest.raises(ValueError, match="protection_level"):
        Scheduler([host("h1"), host("h2", protection_level=2)])
    with pytest.raises(ValueError, match="already known"):
        Scheduler([host("h1"), host("h1")])


def test_claims_refuse_what_does_not_fit_and_releases_what_was_not_taken():
    scheduler = Scheduler([host("h1", memory_mb=8 * GIB)])
    scheduler.claim("h1", request(memory_mb=8 * GIB))
    with pytest.raises(NoRoom):
        scheduler.claim("h1", request(memory_mb=1))
    with pytest.raises(ValueError, match="holds less"):
        scheduler.release("h1", request(memory_mb=9 * GIB))


def test_select_over_given_hosts_replaces_the_known_ones():
    scheduler = Scheduler([host("old")])
    assert scheduler.select(request(), [host("new")]).host.name == "new"
    assert [h.name for h in scheduler] == ["new"]


def test_a_decision_serialises_to_json_and_stays_small_with_10000_hosts():
    hosts = [
        host(f"host-{i:05d}", f"pool-{i // 500}", used_memory_mb=(i % 64) * GIB)
        for i in range(10_000)
    ]
    scheduler = Scheduler(hosts)
    chosen = scheduler.select(request(memory_mb=2 * GIB))
    refused = scheduler.select(request(memory_mb=65 * GIB))
    for decision in (chosen, refused):
        text = json.dumps(decision.as_dict(), ensure_ascii=False)
        assert len(text) < 10_000  # bounded whatever the number of hosts
        assert json.loads(text)["hosts_total"] == 10_000
    assert chosen.host is not None and chosen.host.free_memory_mb == 2 * GIB
    data = refused.as_dict()
    assert data["host"] is None
    assert len(data["reasons"]) == 20 and data["reasons_omitted"] == 0
    assert data["filters"][-1]["rejected_hosts"] == 10_000
    assert len(data["filters"][-1]["hosts"]) == 5


# Properties.

SIZES = st.tuples(st.integers(0, 20), st.integers(0, 40 * GIB), st.integers(0, 500))


@settings(max_examples=60, deadline=None)
@given(
    hosts=st.lists(
        st.tuples(
            st.integers(3, 16),
            st.integers(1, 64),
            st.sampled_from([1.0, 2.0, 4.0]),
            st.integers(0, 2),
        ),
        min_size=1,
        max_size=12,
    ),
    steps=st.lists(st.tuples(st.booleans(), SIZES, st.integers(0, 1000)), max_size=80),
)
def test_placements_and_releases_never_overcommit_and_end_where_they_began(hosts, steps):
    states = [
        host(
            f"h{i}",
            f"p{i % 3}",
            vcpus=cores,
            memory_mb=gib * GIB,
            cpu_ratio=ratio,
            reserved_vcpus=reserved,
            disk_gb=1000,
        )
        for i, (cores, gib, ratio, reserved) in enumerate(hosts)
    ]
    scheduler = Scheduler(states)
    placed = []
    for place, (vcpus, memory, disk), pick in steps:
        if place or not placed:
            wanted = request(vcpus=vcpus, memory_mb=memory, disk_gb=disk)
            decision = scheduler.place(wanted)
            if decision.host is not None:
                placed.append((decision.host.name, wanted))
        else:
            name, wanted = placed.pop(pick % len(placed))
            scheduler.release(name, wanted)
        for state in states:
            assert 0 <= state.used_vcpus <= state.usable_vcpus
            assert 0 <= state.used_memory_mb <= state.usable_memory_mb
            assert 0 <= state.used_disk_gb <= state.usable_disk_gb
    for name, wanted in placed:
        scheduler.release(name, wanted)
    assert all(state.is_empty for state in states)
    assert scheduler.select(request(vcpus=1, memory_mb=1, disk_gb=0)).host is not None


def reference_choice(scheduler, request_):
    """Filter and weigh every host the slow way, as Nova would: the scheduler's index must
    choose the same host and count the same rejections."""
    weigher = UtilisationWeigher()
    order = {h.name: i for i, h in enumerate(scheduler)}
    counts = dict.fromkeys((f.name for f in FILTERS), 0)
    passed = []
    for state in scheduler:
        failing = next((f for f in FILTERS if not f.host_passes(state, request_)), None)
        if failing is None:
            passed.append(state)
        else:
            counts[failing.name] += 1
    best = min(
        passed,
        key=lambda s: (s.standby, s.policy != "pack", -weigher.weight(s), order[s.name]),
        default=None,
    )
    return best, counts, len(passed)


@settings(max_examples=80, deadline=None)
@given(
    used=st.lists(
        st.tuples(
            st.integers(0, 64),
            st.integers(0, 64),
            st.booleans(),
            st.integers(0, 3),
            st.booleans(),
        ),
        min_size=1,
        max_size=300,
    ),
    wanted=st.tuples(st.integers(1, 32), st.integers(1, 32), st.integers(1, 4)),
    group=st.sampled_from([None, "affinity", "anti-affinity"]),
)
def test_the_index_chooses_what_filtering_and_weighing_every_host_would(used, wanted, group):
    states = []
    for i, (cpu, gib, enabled, kind, standby) in enumerate(used):
        pool = f"p{kind}"
        states.append(
            host(
                f"h{i}",
                pool,
                vcpus=16,
                used_vcpus=cpu,
                used_memory_mb=gib * GIB,
                enabled=enabled,
                standby=standby,
                policy="spread" if kind == 3 else "pack",
                protection_level=2 if kind == 2 else 3,
                groups={"g": 1} if i % 7 == 0 else {},
            )
        )
    scheduler = Scheduler(states)
    vcpus, gib, level = wanted
    request_ = request(
        vcpus=vcpus,
        memory_mb=gib * GIB,
        protection_level=level,
        group="g" if group else None,
        group_policy=group,
        group_hosts=frozenset(s.name for s in states if s.groups) if group else None,
    )
    decision = scheduler.select(request_)
    best, counts, passed = reference_choice(scheduler, request_)
    assert (decision.host and decision.host.name) == (best and best.name)
    recorded = {f.filter: f.rejected_hosts for f in decision.filters}
    for name in (
        "zone",
        "network",
        "protection_level",
        "dedicated",
        "enabled",
        "affinity",
        "anti_affinity",
    ):
        assert recorded[name] == counts[name]
    # Capacity counts what it looked at; the rest were outranked by the hosts shown.
    examined = recorded["capacity"] + decision.outranked + len(decision.weights)
    assert examined == counts["capacity"] + passed
    assert recorded["capacity"] <= counts["capacity"]


def test_group_hosts_the_scheduler_does_not_know_are_ignored():
    scheduler = Scheduler([host("h1")])
    gone = frozenset({"removed-host"})
    for policy in ("affinity", "anti-affinity"):
        wanted = request(group="g", group_policy=policy, group_hosts=gone)
        decision = scheduler.select(wanted)
        assert decision.host is None if policy == "affinity" else decision.host.name == "h1"
