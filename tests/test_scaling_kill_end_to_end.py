"""A real worker process killed (SIGKILL) while a scaling group orders its members, then
started again, leaves the group with exactly as many instances as it wants, each recorded
as a member and in the load balancer's pool: never two instances for one slot, no orphan
guest, no quota or address kept wrong (design rule 5, R-I3)."""

import json

import pytest

from tests.test_lifecycle_kill_end_to_end import platform, shell, worker  # noqa: F401

SETUP = """
from zhengyun.infrastructure import balancers, scaling
from zhengyun.testing.lifecycle import build_crash_room
from zhengyun.testing.world import build_world
world = build_world()
room = build_crash_room(world, driver="simulator", uri={uri!r})
balancer = balancers.create_load_balancer(
    actor=world.staff_a, department=world.department_a, name="front", subnet=room.subnet
)
listener = balancers.add_listener(balancer, actor=world.staff_a, protocol="http", port=80)
scaling.create_scaling_group(
    actor=world.staff_a, department=world.department_a, name="web", flavour=room.flavour,
    image=room.image, subnet=room.subnet, pool=listener.pool, min_size=3, max_size=5,
)
"""

# The restarted worker builds what is ordered; the minute's scaling job is asked at once.
CHECK = """
import json, time
from zhengyun.infrastructure import lifecycle, scaling_lifecycle
from zhengyun.infrastructure.models import Instance, Member, ScalingMember
from zhengyun.testing.lifecycle import violations
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    scaling_lifecycle.tick()
    if not lifecycle.unfinished() and Member.objects.count() == 3:
        break
    time.sleep(0.3)
print(json.dumps({
    "violations": violations(),
    "instances": sorted(Instance.objects.values_list("name", "status")),
    "members": sorted(ScalingMember.objects.values_list("instance__name", flat=True)),
    "in_pool": sorted(Member.objects.values_list("instance__name", flat=True)),
}))
"""


@pytest.mark.parametrize("point", ["scaling.ordering", "scaling.ordered"])
def test_a_worker_killed_while_a_group_orders_never_orders_a_slot_twice(platform, point):  # noqa: F811
    env, data = platform
    uri = f"sim://{data}/hypervisor.sqlite?hosts=2&vcpus=8&memory_mb=16384&disk_gb=500"
    shell(env, SETUP.format(uri=uri))

    with open(data / "worker.log", "ab") as log:
        doomed = worker(env, log, ZHENGYUN_CRASH_AT=point)
        assert doomed.wait(timeout=30) == -9, (data / "worker.log").read_text()
        restarted = worker(env, log)
        try:
            outcome = json.loads(shell(env, CHECK).splitlines()[-1])
        finally:
            restarted.terminate()
            restarted.wait(timeout=30)

    assert outcome["violations"] == []
    names = [name for name, status in outcome["instances"] if status == "active"]
    assert len(outcome["instances"]) == len(names) == 3
    assert outcome["members"] == names == outcome["in_pool"]
