"""The placement cache each process keeps stays correct beside other processes: it sees their
claims and releases, new hosts and maintenance, and a stale view never takes room twice
(R-I4). A second ``PlacementCache`` stands for a second process."""

import threading

import pytest
from django.db import connection, transaction

from zhengyun.infrastructure import placement, services
from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.models import Host, Instance
from zhengyun.infrastructure.placement import NoValidHost, PlacementCache
from zhengyun.testing.machine_room import HOST, build_machine_room

pytestmark = pytest.mark.django_db

# A machine-room host takes four of these by memory (16 GB, no memory overcommit).
SMALL = {"vcpus": 2, "memory_mb": 4096, "disk_gb": 40}


class FrozenClock:
    """Time that does not pass, so a cache never rereads everything merely on a timer."""

    def __call__(self):
        return 0.0


@pytest.fixture
def room(world):
    return build_machine_room(world, hosts=1)


@pytest.fixture
def host(room):
    return Host.objects.get(pool=room.extranet)


def small(world):
    return Instance(
        department=world.department_a,
        networks=[NetworkReach.GOV_EXTRANET],
        protection_level=2,
        **SMALL,
    )


def cache():
    loaded = PlacementCache(clock=FrozenClock())
    loaded.reload()
    return loaded


def used_memory(view, host):
    return view.scheduler.host(f"sim-1/{host.name}").used_memory_mb


def fill(host, instances):
    Host.objects.filter(pk=host.pk).update(used_memory_mb=instances * SMALL["memory_mb"])


def test_a_cache_sees_the_claims_of_another_process_without_reading_everything(world, host):
    mine, theirs = cache(), cache()
    for _ in range(3):
        theirs.place(small(world))
    assert mine.refresh() is False
    assert used_memory(mine, host) == 3 * SMALL["memory_mb"]


def test_two_stale_caches_racing_for_the_last_room_take_it_once(world, host):
    fill(host, 3)
    first, second = cache(), cache()
    first.place(small(world))
    # The second decides on its view from before the first claim, as if the claim
    # had committed between its refresh and its own claim.
    second.refresh = lambda: False
    with pytest.raises(NoValidHost):
        second.place(small(world))
    host.refresh_from_db()
    assert host.used_memory_mb == 4 * SMALL["memory_mb"]
    assert used_memory(second, host) == 4 * SMALL["memory_mb"]


@pytest.mark.django_db(transaction=True)
def test_caches_in_two_threads_racing_for_the_last_room_take_it_once(world):
    build_machine_room(world, hosts=1)
    host = Host.objects.get(pool__name="外网池")
    fill(host, 3)
    caches, start, outcomes = [cache(), cache()], threading.Barrier(2), []

    def attempt(view):
        try:
            start.wait()
            with transaction.atomic():
                view.place(small(world))
            outcomes.append("placed")
        except NoValidHost:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(view,)) for view in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["placed", "refused"]
    host.refresh_from_db()
    assert host.used_memory_mb == 4 * SMALL["memory_mb"]


def test_a_stale_cache_passes_over_a_host_gone_into_maintenance(world, room, host):
    view = cache()
    services.register_provider(
        actor=world.operator,
        pool=room.extranet,
        name="sim-3",
        driver="simulator",
        uri=f"sim://memory?hosts=1&{HOST}&seed=3",
    )
    view.reload()
    fill(host, 1)  # pack prefers the fuller host
    view.reload()
    Host.objects.filter(pk=host.pk).update(in_maintenance=True)  # no stamp: unseen
    chosen, _decision = view.place(small(world))
    assert chosen.pk != host.pk
    assert not view.scheduler.host(f"sim-1/{host.name}").enabled


def test_a_cache_sees_new_hosts_and_maintenance_without_reading_everything(world, room, host):
    view = cache()
    services.register_provider(
        actor=world.operator,
        pool=room.extranet,
        name="sim-3",
        driver="simulator",
        uri=f"sim://memory?hosts=2&{HOST}&seed=3",
    )
    assert view.refresh() is False
    assert {h.name for h in view.scheduler if h.name.startswith("sim-3/")} == {
        f"sim-3/{h.name}" for h in Host.objects.filter(provider__name="sim-3")
    }

    host.in_maintenance = True
    host.save()
    assert view.refresh() is False
    assert not view.scheduler.host(f"sim-1/{host.name}").enabled
    host.in_maintenance = False
    host.save()
    assert view.refresh() is False
    assert view.scheduler.host(f"sim-1/{host.name}").enabled


def test_a_release_makes_room_another_cache_sees(world, host):
    mine, theirs = cache(), cache()
    placed = [theirs.place(small(world))[0] for _ in range(4)]
    with pytest.raises(NoValidHost):
        mine.place(small(world))
    placement.release(placed[0], small(world))
    assert mine.refresh() is False
    chosen, _decision = mine.place(small(world))
    assert chosen.pk == host.pk


def test_a_claim_rolled_back_is_not_held_against_the_host(world, host):
    view = cache()
    with pytest.raises(RuntimeError), transaction.atomic():
        view.place(small(world))
        view.place(small(world))  # its refresh reads the first claim, uncommitted
        raise RuntimeError("the order fails after placing")
    view.refresh()
    assert used_memory(view, host) == 0


def test_a_changed_pool_is_read_again(world, room, host):
    view = cache()
    room.extranet.ram_ratio = 2.0
    room.extranet.save()
    assert view.refresh() is True
    assert view.scheduler.host(f"sim-1/{host.name}").usable_memory_mb == 2 * host.memory_mb


def test_the_view_is_read_again_when_it_has_aged(world, host):
    now = [0.0]
    view = PlacementCache(clock=lambda: now[0])
    assert view.refresh() is True
    assert view.refresh() is False
    now[0] += placement.RESYNC_SECONDS + 1
    assert view.refresh() is True


def test_a_host_registered_again_under_its_old_name_replaces_the_old_one(world, room, host):
    view = cache()
    Host.objects.filter(pk=host.pk).delete()  # the old row goes, a new one takes its name
    Host.objects.create(
        provider=host.provider,
        pool=host.pool,
        name=host.name,
        vcpus=host.vcpus,
        memory_mb=host.memory_mb,
        disk_gb=host.disk_gb,
    )
    chosen, _decision = view.place(small(world))
    assert chosen.pk != host.pk and chosen.name == host.name


def test_the_host_an_order_gets_is_the_row_as_stored(world, host):
    Host.objects.filter(pk=host.pk).update(maintenance_reason="kept from an earlier drain")
    view = cache()
    chosen, _decision = view.place(small(world))
    host.refresh_from_db()
    assert (chosen.pk, chosen.name, chosen.pool_id, chosen.vcpus, chosen.used_memory_mb) == (
        host.pk,
        host.name,
        host.pool_id,
        host.vcpus,
        host.used_memory_mb,  # as the claim left it
    )
    # Fields the cache does not keep are read when asked for, never guessed.
    assert chosen.maintenance_reason == "kept from an earlier drain"
    # The claim's own row told the cache the host's use: nothing to read again.
    assert used_memory(view, host) == host.used_memory_mb == SMALL["memory_mb"]


def test_a_host_changed_between_decision_and_claim_is_known_as_the_claim_left_it(world, host):
    view, theirs = cache(), cache()
    select = view._select

    def select_then_lose_the_race(request):
        chosen = select(request)
        theirs.place(small(world))  # another process claims on the same host meanwhile
        return chosen

    view._select = select_then_lose_the_race
    view.place(small(world))
    host.refresh_from_db()
    assert used_memory(view, host) == host.used_memory_mb == 2 * SMALL["memory_mb"]


def test_a_claim_leaves_to_the_next_refresh_what_others_changed_before_it(world):
    room = build_machine_room(world, hosts=2)
    full, empty = Host.objects.filter(pool=room.extranet).order_by("name")
    Host.objects.filter(pk=full.pk).update(**{f"used_{k}": 4 * v for k, v in SMALL.items()})
    view = cache()
    select = view._select

    def select_then_another_process_releases(request):
        chosen = select(request)
        placement.release(full, placement.Size(**SMALL))  # stamped before the claim below
        return chosen

    view._select = select_then_another_process_releases
    chosen, _decision = view.place(small(world))
    assert chosen.pk == empty.pk
    assert view.refresh() is False
    assert used_memory(view, full) == 3 * SMALL["memory_mb"]


def test_a_host_put_in_standby_is_passed_over_until_no_running_host_has_room(world):
    room = build_machine_room(world, hosts=2)
    asleep, awake = Host.objects.filter(pool=room.extranet).order_by("name")
    view = cache()
    asleep.standby = True  # as a finished consolidation plan leaves it
    asleep.save(update_fields=["standby", "generation"])

    placed = [view.place(small(world)) for _ in range(4)]
    assert {host.pk for host, _decision in placed} == {awake.pk}
    assert placed[0][1]["weights"][-1]["standby"] is True  # the record says why it lost
    assert view.scheduler.host(f"sim-1/{asleep.name}").standby

    woken, _decision = view.place(small(world))  # the running host is full
    assert woken.pk == asleep.pk
    asleep.refresh_from_db()
    assert asleep.standby is False
    assert not view.scheduler.host(f"sim-1/{asleep.name}").standby
    assert cache().scheduler.host(f"sim-1/{asleep.name}").used_memory_mb == SMALL["memory_mb"]
