"""Gateway throughput (R-D3): an authorised, masked, logged call returning 20 records,
against the same web stack serving a static 20-record JSON answer.

    python benchmarks/gateway_throughput.py [--clients 50] [--seconds 10] [--rounds 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gateway_bench python benchmarks/...

One ``zhengyun serve`` process (waitress, its default eight threads) serves both: the
gateway's ``/gateway/v1/resources/<code>/records?page_size=20`` with a client-credentials
token, whose every call checks the token and the grant, counts the grant's rate, masks two
items and logs the call; and ``/bench/static-records``, a view added for this benchmark
only (``gateway_bench_urls``) that returns the same body built once, through the same
middleware. This process is the load: ``--clients`` threads on kept-alive connections,
the two endpoints in alternating rounds of ``--seconds``. The table gives the median
throughput and the latency percentiles of all rounds. The issue's figures: the gateway
at least half the static answer's throughput, p99 under 50 ms at 50 clients.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "src"))
sys.path.insert(0, str(ROOT))

from oidc_tokens import free_port, wait_until_up  # noqa: E402
from scratch_database import postgres_admin, start_from_migrated  # noqa: E402

RECORDS = 200
CODE = "101001/000001"


def prepare():
    """The world, a resource with data, a grant and a token; the static body."""
    from zhengyun.accounts import services as accounts
    from zhengyun.data_resources import datasets, sharing
    from zhengyun.testing.catalog import ask, published_resource
    from zhengyun.testing.world import build_world

    world = build_world()
    resource = published_resource(world, world.department_a, world.staff_a)
    lines = ["姓名,公民身份号码,联系电话,住址,出生日期"]
    lines += [
        f"居民{n:04d},1101011990{n:04d}1234,1380000{n:04d},示范省甲市甲区人民路{n}号,1990-03-07"
        for n in range(RECORDS)
    ]
    datasets.load_dataset(
        resource, actor=world.staff_a, name="bench.csv", content="\n".join(lines).encode()
    )
    client, secret = accounts.register_oidc_client(
        actor=world.admin_b, name="bench", grant="client-credentials"
    )
    request = ask(world, resource, client, items=["姓名", "公民身份号码", "出生日期"])
    sharing.approve_sharing(request, actor=world.admin_a)
    return client.application.client_id, secret


def token(port, client_id, secret):
    import requests

    answer = requests.post(
        f"http://127.0.0.1:{port}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def load(port, path, headers, clients, seconds):
    """Requests a second and latencies (ms) of ``clients`` threads for ``seconds``."""
    latencies, failures = [], []
    stop = time.perf_counter() + seconds

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200 or b'"records"' not in body:
                failures.append(response.status)
        connection.close()
        latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit(f"{len(failures)} requests failed to {path}: {sorted(set(failures))[:5]}")
    return len(latencies) / (time.perf_counter() - began), latencies


def percentile(samples, pct):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    os.environ["ZHENGYUN_DATA_DIR"] = tempfile.mkdtemp(prefix="zhengyun-bench-gateway-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "gateway_bench_settings"
    os.environ.setdefault("ZHENGYUN_LOG_LEVEL", "WARNING")
    # The rate limit is not what is measured: one grant makes every call here.
    os.environ["ZHENGYUN_GATEWAY_CALLS_PER_MINUTE"] = "100000000"
    os.environ["ZHENGYUN_GATEWAY_CALLS_PER_DAY"] = "1000000000"
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    url = os.environ.get("DATABASE_URL", "")
    admin = None
    if url.startswith("postgres"):
        admin, database = postgres_admin(url)
        admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        admin.execute(f'CREATE DATABASE "{database}"')
    start_from_migrated()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    server = None
    try:
        call_command("migrate", verbosity=0)
        client_id, secret = prepare()
        vendor = connection.vendor
        connection.close()
        port = free_port()
        zhengyun = str(Path(sys.executable).parent / "zhengyun")
        server = subprocess.Popen(
            [zhengyun, "serve", "--port", str(port)],
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(port)
        bearer = {"Authorization": f"Bearer {token(port, client_id, secret)}"}
        targets = {
            "gateway": (f"/gateway/v1/resources/{CODE}/records?page_size=20", bearer),
            "static": ("/bench/static-records", {}),
        }
        check = http.client.HTTPConnection("127.0.0.1", port)
        check.request("GET", targets["gateway"][0], headers=bearer)
        sample = json.loads(check.getresponse().read())
        assert len(sample["records"]) == 20 and "*" in sample["records"][0]["姓名"], sample
        for name in targets:  # warm both up
            load(port, *targets[name], args.clients, min(2, args.seconds))
        rates = {name: [] for name in targets}
        latencies = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, (path, headers) in targets.items():
                rate, times = load(port, path, headers, args.clients, args.seconds)
                rates[name].append(rate)
                latencies[name].extend(times)
        static = statistics.median(rates["static"])
        print(
            f"{vendor}, one server process (8 threads), {args.clients} clients, "
            f"{args.rounds} rounds of {args.seconds:g} s each"
        )
        print()
        print("| answer | requests/s (median) | of static | p50 ms | p99 ms |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name in ("static", "gateway"):
            rate = statistics.median(rates[name])
            print(
                f"| {name} | {rate:,.0f} | {rate / static:.0%} | "
                f"{percentile(latencies[name], 50):.1f} | {percentile(latencies[name], 99):.1f} |"
            )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if admin is not None:
            connection.close()
            admin.execute(f'DROP DATABASE IF EXISTS "{database}"')


if __name__ == "__main__":
    main()
