"""OIDC token endpoint throughput: client-credentials tokens per second from two
``zhengyun serve`` processes sharing one database, as two web workers would.

    python benchmarks/oidc_tokens.py [--requests 600] [--clients 8]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhengyun_bench python benchmarks/...

The database is made afresh (on PostgreSQL the named database, whose name must contain
"bench", is created and dropped). ``--clients`` threads send token requests over kept-alive
connections, alternating between the two processes; each figure is the median of three
rounds, printed as a table.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROUNDS = 3
ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port, deadline=60):
    import requests

    started = time.monotonic()
    while time.monotonic() - started < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    sys.exit(f"the server on port {port} did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    os.environ["ZHENGYUN_DATA_DIR"] = tempfile.mkdtemp(prefix="zhengyun-bench-oidc-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengyun.settings")
    os.environ.setdefault("ZHENGYUN_LOG_LEVEL", "WARNING")
    url = os.environ.get("DATABASE_URL", "")
    admin = None
    if url.startswith("postgres"):
        import psycopg

        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        if "bench" not in name:
            sys.exit("the PostgreSQL database name must contain 'bench'")
        admin = psycopg.connect(
            host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
            dbname="postgres", autocommit=True,
        )  # fmt: skip
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')

    import django

    django.setup()
    import requests
    from django.core.management import call_command
    from django.db import connection

    from zhengyun.accounts import services as accounts
    from zhengyun.testing.world import build_world

    servers = []
    try:
        call_command("migrate", verbosity=0)
        world = build_world()
        client, secret = accounts.register_oidc_client(
            actor=world.admin_a, name="bench", grant="client-credentials"
        )
        client_id = client.application.client_id
        connection.close()

        ports = [free_port(), free_port()]
        zhengyun = str(Path(sys.executable).parent / "zhengyun")
        for port in ports:
            servers.append(
                subprocess.Popen(
                    [zhengyun, "serve", "--port", str(port)],
                    env=os.environ.copy(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in ports:
            wait_until_up(port)

        def round_rate():
            per_client = args.requests // args.clients
            failures = []

            def worker(n):
                session = requests.Session()
                for i in range(per_client):
                    port = ports[(n + i) % len(ports)]
                    response = session.post(
                        f"http://127.0.0.1:{port}/o/token/",
                        data={"grant_type": "client_credentials"},
                        auth=(client_id, secret),
                        timeout=30,
                    )
                    if response.status_code != 200:
                        failures.append(response.status_code)

            threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            if failures:
                sys.exit(f"{len(failures)} token requests failed: {sorted(set(failures))}")
            return per_client * args.clients / elapsed

        round_rate()  # warm up both processes
        rates = [round_rate() for _ in range(ROUNDS)]
        print("| database | measure | median | unit |")
        print("|---|---|---|---|")
        print(
            f"| {connection.vendor} | client-credentials tokens, 2 processes, "
            f"{args.clients} clients | {statistics.median(rates):,.0f} | tokens/s |"
        )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        if admin is not None:
            connection.close()
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
