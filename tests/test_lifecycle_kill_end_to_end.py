"""A real worker process killed (SIGKILL) in the middle of an instance's build, deletion,
stop, reboot, resize or migration on the simulated hypervisor it shares with the others
through a state file, then started again, leaves nothing behind: no orphan guest, no quota,
claim or address kept for a deleted instance, no instance stuck building, deleting,
stopping, rebooting or resizing, no guest of another size or on another host than its
instance, none running when its instance says stopped (design rule 5, R-I1, R-I4)."""

import json
import subprocess
import sys

import pytest

from zhengyun.testing.processes import embedded_environment

CLI = [sys.executable, "-m", "zhengyun.cli"]

SETUP = """
from zhengyun.infrastructure import lifecycle, services
from zhengyun.testing.lifecycle import build_crash_room, order
from zhengyun.testing.world import build_world
world = build_world()
room = build_crash_room(world, driver="simulator", uri={uri!r})
# Two instances to delete, built here on the shared hypervisor; two the worker builds.
doomed = [order(world, room, f"doomed-{{n}}") for n in range(2)]
for instance in doomed:
    lifecycle.build(instance.pk)
    services.delete_instance(instance, actor=world.staff_a)
for n in range(2):
    order(world, room, f"kept-{{n}}")
"""

# What a restarted worker does within a minute, asked of it at once: the reconciler.
CHECK = """
import json, time
from zhengyun.infrastructure import lifecycle
from zhengyun.infrastructure.models import Instance
from zhengyun.infrastructure.tasks import reconcile_instances_task
from zhengyun.testing.lifecycle import violations
reconcile_instances_task()
deadline = time.monotonic() + 20
while lifecycle.unfinished() and time.monotonic() < deadline:
    time.sleep(0.2)
statuses = dict(Instance.objects.values_list("name", "status"))
from zhengyun.jobs.models import JobRun
# The restarted worker marks the killed one's run interrupted when it starts.
while JobRun.objects.filter(status="running", worker__endswith=":{pid}").exists():
    if time.monotonic() > deadline:
        break
    time.sleep(0.2)
killed = list(JobRun.objects.filter(worker__endswith=":{pid}").values_list("status", flat=True))
print(json.dumps({{"violations": violations(), "statuses": statuses, "killed_runs": killed}}))
"""


@pytest.fixture
def platform(migrated_data_dir):
    env = {**embedded_environment(), "ZHENGYUN_DATA_DIR": str(migrated_data_dir)}
    return env, migrated_data_dir


def shell(env, code):
    done = subprocess.run(
        [*CLI, "shell", "-v0", "-c", code],
        env=env,
        check=True,
        timeout=90,
        capture_output=True,
        text=True,
    )
    return done.stdout


def worker(env, log, **extra):
    return subprocess.Popen(
        [*CLI, "worker"], env={**env, **extra}, stdout=log, stderr=subprocess.STDOUT
    )


@pytest.mark.parametrize("point", ["build.started", "destroy.deleted"])
def test_a_worker_killed_mid_job_and_restarted_leaves_nothing_behind(platform, point):
    env, data = platform
    uri = f"sim://{data}/hypervisor.sqlite?hosts=2&vcpus=8&memory_mb=16384&disk_gb=500"
    shell(env, SETUP.format(uri=uri))

    with open(data / "worker.log", "ab") as log:
        doomed = worker(env, log, ZHENGYUN_CRASH_AT=point)
        assert doomed.wait(timeout=30) == -9, (data / "worker.log").read_text()
        restarted = worker(env, log)
        try:
            outcome = json.loads(shell(env, CHECK.format(pid=doomed.pid)).splitlines()[-1])
        finally:
            restarted.terminate()
            restarted.wait(timeout=30)

    assert outcome["violations"] == []
    assert "interrupted" in outcome["killed_runs"] and "running" not in outcome["killed_runs"]
    assert outcome["statuses"] == {
        "doomed-0": "deleted",
        "doomed-1": "deleted",
        "kept-0": "active",
        "kept-1": "active",
    }


MOVES_SETUP = """
from zhengyun.infrastructure import lifecycle, maintenance, resize, services
from zhengyun.testing.lifecycle import build_crash_room, order
from zhengyun.testing.world import build_world
world = build_world()
room = build_crash_room(world, driver="simulator", uri={uri!r})
grown = services.create_flavour(
    actor=world.operator, name="s2.grown", vcpus=2, memory_mb=256, disk_gb=1
)
resized, moved = order(world, room, "resized"), order(world, room, "moved")
for instance in (resized, moved):
    lifecycle.build(instance.pk)
resize.resize_instance(resized, actor=world.staff_a, flavour=grown)
maintenance.migrate_instance(moved, actor=world.operator)
print(moved.host.name)
"""

MOVES_CHECK = """
import json, time
from zhengyun.infrastructure import maintenance, resize_lifecycle
from zhengyun.infrastructure.models import Instance
from zhengyun.infrastructure.tasks import reconcile_maintenance_task, reconcile_resizes_task
from zhengyun.testing.lifecycle import violations
reconcile_resizes_task()
reconcile_maintenance_task()
deadline = time.monotonic() + 20
while (resize_lifecycle.unfinished() or maintenance.open_migrations()) and (
    time.monotonic() < deadline
):
    time.sleep(0.2)
statuses = {
    i.name: [i.status, i.flavour.name, i.host.name]
    for i in Instance.objects.select_related("flavour", "host")
}
print(json.dumps({"violations": violations(), "statuses": statuses}))
"""


@pytest.mark.parametrize("point", ["resize.resized", "migrate.moved"])
def test_a_worker_killed_mid_resize_or_migration_and_restarted_finishes_it_once(platform, point):
    env, data = platform
    uri = f"sim://{data}/hypervisor.sqlite?hosts=2&vcpus=8&memory_mb=16384&disk_gb=500"
    source = shell(env, MOVES_SETUP.format(uri=uri)).splitlines()[-1]

    with open(data / "worker.log", "ab") as log:
        doomed = worker(env, log, ZHENGYUN_CRASH_AT=point)
        assert doomed.wait(timeout=30) == -9, (data / "worker.log").read_text()
        restarted = worker(env, log)
        try:
            outcome = json.loads(shell(env, MOVES_CHECK).splitlines()[-1])
        finally:
            restarted.terminate()
            restarted.wait(timeout=30)

    assert outcome["violations"] == []
    statuses = outcome["statuses"]
    assert statuses["resized"][:2] == ["active", "s2.grown"]
    assert statuses["moved"][:2] == ["active", "s1.tiny"] and statuses["moved"][2] != source


POWER_SETUP = """
from zhengyun.infrastructure import instance_power, lifecycle
from zhengyun.testing.lifecycle import build_crash_room, order
from zhengyun.testing.world import build_world
world = build_world()
room = build_crash_room(world, driver="simulator", uri={uri!r})
stopped, rebooted = order(world, room, "stopped"), order(world, room, "rebooted")
for instance in (stopped, rebooted):
    lifecycle.build(instance.pk)
instance_power.stop_instance(stopped, actor=world.staff_a)
instance_power.reboot_instance(rebooted, actor=world.staff_a)
"""

POWER_CHECK = """
import json, time
from zhengyun.infrastructure import power_lifecycle
from zhengyun.infrastructure.models import Instance
from zhengyun.infrastructure.tasks import reconcile_power_task
from zhengyun.testing.lifecycle import violations
reconcile_power_task()
deadline = time.monotonic() + 20
while power_lifecycle.unfinished() and time.monotonic() < deadline:
    time.sleep(0.2)
statuses = dict(Instance.objects.values_list("name", "status"))
print(json.dumps({"violations": violations(), "statuses": statuses}))
"""


@pytest.mark.parametrize("point", ["power.stopped", "power.rebooted"])
def test_a_worker_killed_mid_power_change_and_restarted_settles_it(platform, point):
    env, data = platform
    uri = f"sim://{data}/hypervisor.sqlite?hosts=2&vcpus=8&memory_mb=16384&disk_gb=500"
    shell(env, POWER_SETUP.format(uri=uri))

    with open(data / "worker.log", "ab") as log:
        doomed = worker(env, log, ZHENGYUN_CRASH_AT=point)
        assert doomed.wait(timeout=30) == -9, (data / "worker.log").read_text()
        restarted = worker(env, log)
        try:
            outcome = json.loads(shell(env, POWER_CHECK).splitlines()[-1])
        finally:
            restarted.terminate()
            restarted.wait(timeout=30)

    # violations() also checks that each guest runs exactly when its instance says so.
    assert outcome["violations"] == []
    assert outcome["statuses"] == {"stopped": "stopped", "rebooted": "active"}
