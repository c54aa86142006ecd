"""Gateway throughput (R-D3): an authorised, masked, logged call returning 20 records,
against the same web stack serving a static 20-record JSON answer.

    python benchmarks/gateway_throughput.py [--clients 50] [--seconds 6] [--rounds 5]
        [--workers 2] [--load wrk|python]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gateway_bench python benchmarks/...

One ``zhengyun serve`` (waitress, eight threads in each of ``--workers`` processes) serves
both: the gateway's ``/gateway/v1/resources/<code>/records?page_size=20`` with a
client-credentials token, whose every call checks the token and the grant, counts the
grant's rate, masks two items and logs the call; and ``/bench/static-records``, a view
added for this benchmark only (``gateway_bench_urls``) that returns the same body built
once, through the same middleware. The load is wrk (``--clients`` connections kept alive,
two threads; ``scripts/install-wrk.sh``) or, with ``--load python``, as many threads of this
process. The two endpoints alternate in rounds of ``--seconds``. The table gives the median
throughput, the latency percentiles (wrk: the median of the rounds'; python: over all
requests) and the server's CPU time per request, which the machine's other load disturbs
less than throughput. The shares of static are medians of each round's against the static
round beside it: a shared machine's speed drifts within a minute, and two rounds seconds
apart see much the same machine. Several workers count rate limits in Redis:
``REDIS_URL``, else the local server. The issue's figures: the gateway at least half the
static answer's throughput, p99 under 50 ms at 50 clients.
"""

import argparse
import http.client
import json
import os
import re
import shutil
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
    """Requests a second, their latencies (ms) and how many were made by ``clients``
    threads in ``seconds``."""
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
    return len(latencies) / (time.perf_counter() - began), latencies, len(latencies)


def load_wrk(port, path, headers, clients, seconds):
    """Requests a second, the p50 and p99 latencies (ms) and the requests that wrk made."""
    command = ["wrk", "-t2", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"requests to {path} failed:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    made = int(re.search(r"(\d+) requests in", out).group(1))
    return rate, [_wrk_ms(out, "50%"), _wrk_ms(out, "99%")], made


def _wrk_ms(out, label):
    found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)$", out, re.MULTILINE)
    if found is None:
        sys.exit(f"wrk's output gives no {label} latency:\n{out}")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def cpu_seconds(pid):
    """CPU time (user and system) of the server process and its workers so far."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    ticks = 0
    for each in pids:
        fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def paired(static, this, share):
    """The median of each round's ``share`` of static and this answer."""
    return statistics.median(share(a, b) for a, b in zip(static, this, strict=True))


def percentile(samples, pct):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--load", choices=("wrk", "python"), default="wrk")
    args = parser.parse_args()
    if args.load == "wrk" and shutil.which("wrk") is None:
        sys.exit("wrk is not installed: scripts/install-wrk.sh, or --load python")

    os.environ["ZHENGYUN_DATA_DIR"] = tempfile.mkdtemp(prefix="zhengyun-bench-gateway-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "gateway_bench_settings"
    os.environ.setdefault("ZHENGYUN_LOG_LEVEL", "WARNING")
    # The rate limit is not what is measured: one grant makes every call here.
    os.environ["ZHENGYUN_GATEWAY_CALLS_PER_MINUTE"] = "100000000"
    os.environ["ZHENGYUN_GATEWAY_CALLS_PER_DAY"] = "1000000000"
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    if args.workers > 1:
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
        os.environ["ZHENGYUN_CACHE_PREFIX"] = f"bench-gateway-{os.getpid()}"
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

    from zhengyun.gateway.models import GatewayCall

    server = None
    try:
        call_command("migrate", verbosity=0)
        client_id, secret = prepare()
        vendor = connection.vendor
        connection.close()
        port = free_port()
        zhengyun = str(Path(sys.executable).parent / "zhengyun")
        server = subprocess.Popen(
            [zhengyun, "serve", "--port", str(port), "--workers", str(args.workers)]
            + ["--threads", str(args.threads)],
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
        run = load_wrk if args.load == "wrk" else load
        answered = 1  # gateway calls, to be found in the call log
        for name in targets:  # warm both up
            made = run(port, *targets[name], args.clients, min(2, args.seconds))[2]
            answered += made if name == "gateway" else 0
        rates = {name: [] for name in targets}
        latencies = {name: [] for name in targets}
        cpu = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, (path, headers) in targets.items():
                before = cpu_seconds(server.pid)
                rate, times, made = run(port, path, headers, args.clients, args.seconds)
                cpu[name].append((cpu_seconds(server.pid) - before) / made)
                answered += made if name == "gateway" else 0
                rates[name].append(rate)
                latencies[name].append(times)
        print(
            f"{vendor}, {args.workers} server process(es) of {args.threads} threads, "
            f"{args.load} load, {args.clients} clients, "
            f"{args.rounds} rounds of {args.seconds:g} s each"
        )
        print()
        print(
            "| answer | requests/s (median) | of static (paired) | p50 ms | p99 ms "
            "| server CPU ms a request | static's CPU of this (paired) |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name in ("static", "gateway"):
            rate, used = statistics.median(rates[name]), statistics.median(cpu[name])
            share = paired(rates["static"], rates[name], lambda static, this: this / static)
            cpu_share = paired(cpu["static"], cpu[name], lambda static, this: static / this)
            if args.load == "wrk":
                p50 = statistics.median(times[0] for times in latencies[name])
                p99 = statistics.median(times[1] for times in latencies[name])
            else:
                every = [ms for times in latencies[name] for ms in times]
                p50, p99 = percentile(every, 50), percentile(every, 99)
            print(
                f"| {name} | {rate:,.0f} | {share:.0%} | {p50:.1f} | {p99:.1f} "
                f"| {used * 1000:.2f} | {cpu_share:.0%} |"
            )
        server.terminate()  # its call journals are flushed as it stops
        server.wait(timeout=60)
        logged = GatewayCall.objects.filter(status=200).count()
        # wrk counts the answers it read; a round's last calls may be answered unread.
        unread = args.clients * (args.rounds + 1)
        print(f"\ncalls logged: {logged:,} for {answered:,} answers read")
        if not answered <= logged <= answered + unread:
            sys.exit("the call log does not hold every call answered")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if admin is not None:
            connection.close()
            admin.execute(f'DROP DATABASE IF EXISTS "{database}"')


if __name__ == "__main__":
    main()
