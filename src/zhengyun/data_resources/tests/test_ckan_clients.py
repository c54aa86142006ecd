"""CKAN's own client, ``ckanapi``, reads the open catalog over HTTP (R-D1): the library's
``RemoteCKAN`` with POST and with GET, and its command line's ``search datasets`` and
``dump datasets --all``, which starts worker processes of its own."""

import json
import os
import subprocess
import sys
from pathlib import Path

import ckanapi
import pytest

from zhengyun.data_resources.tests.test_ckan_api import open_resources
from zhengyun.testing.world import build_world

CKANAPI = Path(sys.executable).with_name("ckanapi")


@pytest.fixture
def live_shelf(transactional_db):
    world = build_world()
    return world, open_resources(world)


def test_remote_ckan_searches_shows_and_gets_ckan_s_exceptions(live_server, live_shelf):
    world, (licences, _permits, population) = live_shelf
    for get_only in (False, True):
        with ckanapi.RemoteCKAN(live_server.url, get_only=get_only) as site:
            found = site.call_action(
                "package_search", {"q": "营业执照", "facet.field": ["organization"]}
            )
            assert [p["name"] for p in found["results"]] == ["102001-000001"]
            assert found["facets"] == {"organization": {world.department_b.uscc.lower(): 1}}
            assert site.action.package_show(id="102001-000001")["id"] == str(licences.pk)
            with pytest.raises(ckanapi.NotFound):
                site.action.package_show(id=str(population.pk))
            with pytest.raises(ckanapi.ValidationError):
                site.action.package_search(rows=-1)
            with pytest.raises(ckanapi.SearchQueryError):
                site.action.package_search(fq="secret:1")
            by_title = sorted([world.department_a, world.department_b], key=lambda d: d.name)
            assert site.action.organization_list() == [d.uscc.lower() for d in by_title]


def run_ckanapi(*words):
    environ = {**os.environ, "PATH": f"{CKANAPI.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [str(CKANAPI), *words], capture_output=True, env=environ, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def test_the_ckanapi_command_line_searches_and_dumps_the_open_catalog(live_server, live_shelf):
    found = run_ckanapi("search", "datasets", "q=许可证", "-r", live_server.url)
    assert [p["title"] for p in found] == ["食品经营许可证信息"]
    dumped = run_ckanapi("dump", "datasets", "--all", "-q", "-r", live_server.url)
    assert [p["name"] for p in dumped] == ["102001-000001", "203001-000001"]
    assert all(p["resources"] and p["organization"] for p in dumped)
