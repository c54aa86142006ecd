"""The consolidation planner (R-I4, R-G3): migrations that empty hosts, without a database."""

import json

from zhengyun.infrastructure.scheduler import HostState, PlacementRequest
from zhengyun.infrastructure.scheduler.consolidation import plan_consolidation

GIB = 1024


def host(name, used_gib=0, pool="p1", **kwargs):
    values = {
        "zone": "z1",
        "vcpus": 16,
        "memory_mb": 64 * GIB,
        "disk_gb": 1000,
        "idle_watts": 150.0,
        "peak_watts": 350.0,
        "used_vcpus": used_gib // 4,
        "used_memory_mb": used_gib * GIB,
    }
    values.update(kwargs)
    return HostState(name=name, pool=pool, **values)


def guest(gib, **kwargs):
    return PlacementRequest(vcpus=gib // 4, memory_mb=gib * GIB, **kwargs)


def test_four_quarter_full_hosts_become_one_full_host():
    hosts = [host(f"h{i}", 16) for i in range(4)] + [host("spare")]
    guests = {f"h{i}": [(f"vm{i}", guest(16))] for i in range(4)}
    plan = plan_consolidation(hosts, guests)
    assert sorted(plan.released_hosts) == ["h0", "h2", "h3"]
    assert {m.target for m in plan.migrations} == {"h1"}  # equally full: the first known
    assert plan.memory_moved_mb == 3 * 16 * GIB
    assert plan.watts_saved == 3 * 150.0
    assert plan.energy_saved_kwh(24) == 3 * 150.0 * 24 / 1000
    assert all(h.used_memory_mb == 16 * GIB for h in hosts[:4])  # the caller's states untouched
    assert json.loads(json.dumps(plan.as_dict()))["released_hosts"] == plan.released_hosts


def test_a_host_whose_guests_cannot_all_move_keeps_them_all():
    hosts = [host("big", 40), host("small", 30)]
    guests = {"big": [("a", guest(20)), ("b", guest(20))], "small": [("c", guest(30))]}
    plan = plan_consolidation(hosts, guests)
    # Neither host can take the other's guests entirely: nothing moves.
    assert plan.migrations == [] and plan.released_hosts == []


def test_anti_affinity_members_stay_apart_after_consolidation():
    apart = {"group": "db", "group_policy": "anti-affinity"}
    hosts = [host("a", 8, groups={"db": 1}), host("b", 8, groups={"db": 1}), host("c", 8)]
    guests = {
        "a": [("db-1", guest(8, **apart))],
        "b": [("db-2", guest(8, **apart))],
        "c": [("web", guest(8))],
    }
    plan = plan_consolidation(hosts, guests)
    where = {"db-1": "a", "db-2": "b", "web": "c"}
    where.update({m.guest: m.target for m in plan.migrations})
    assert len(plan.released_hosts) == 1  # two hosts remain: the members cannot share one
    assert where["db-1"] != where["db-2"]
    assert set(where.values()).isdisjoint(plan.released_hosts)


def test_spread_pools_and_other_pools_are_left_alone():
    hosts = [
        host("s1", 8, pool="ha", policy="spread"),
        host("s2", 8, pool="ha", policy="spread"),
        host("p1", 8, pool="green"),
        host("q1", 8, pool="other"),
    ]
    guests = {name: [(f"vm-{name}", guest(8))] for name in ("s1", "s2", "p1", "q1")}
    plan = plan_consolidation(hosts, guests)
    assert plan.migrations == []  # one host per pack pool: nowhere within its pool to go


def test_the_plan_stops_at_its_migration_budget():
    hosts = [host(f"h{i}", 8) for i in range(5)]
    guests = {f"h{i}": [(f"vm{i}", guest(8))] for i in range(5)}
    assert len(plan_consolidation(hosts, guests, max_migrations=2).migrations) == 2
    assert len(plan_consolidation(hosts, guests).released_hosts) == 4
