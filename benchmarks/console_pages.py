"""Server time and query counts of the console pages and API lists on a large demo region.

What is measured: every page and API list below is requested ``--requests`` times (after
three warm-up requests) through ``django.test.Client``, signed in by session
(``force_login``) as one of the demo personas. For each request the script records the
server time (``time.perf_counter`` around the call; the full middleware stack, view and
template or serializer run in-process, with no network or WSGI server in between) and the
number of SQL queries (``CaptureQueriesContext``). It prints, per database, role and path,
the median and 95th percentile time, the largest query count and whether p95 meets the
target: 150 ms for console pages, 100 ms for an API page.

N+1 check: every paginated list is also requested once with 10 rows a page; if the default
page (50 rows) takes more queries than that, the query count grows with the rows shown.

The database is built first: migrations, then ``zhengyun demo --scale N`` through the real
services (its duration is printed). By default everything lives in a new temporary data
directory; ``--data-dir`` reuses one (and skips the load when a demo is already there).
With ``DATABASE_URL`` set to PostgreSQL the named database (its name must contain "bench")
is dropped, created afresh and dropped again at the end; with ``--data-dir`` it is only
created when missing, and kept. On PostgreSQL the script runs ``VACUUM ANALYZE`` after the
load (not counted in the load time), as autovacuum would soon after it.

    python benchmarks/console_pages.py [--scale 100] [--requests 50] [--data-dir DIR]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhengyun_bench \\
        python benchmarks/console_pages.py --scale 100

The script reports: it exits 0 whatever the numbers, and does not fail on a missed target.
"""

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from urllib.parse import urlsplit

PAGE_TARGET_MS = 150
API_TARGET_MS = 100
WARM_UPS = 3
ROLES = ("operator", "supervisor", "dept_staff")

# (path, paginated with this query parameter or None, roles; None means ROLES)
CASES = [
    ("/", None, None),
    ("/organizations/tree/", None, None),
    ("/organizations/departments/", "per_page", None),
    ("/accounts/users/", "per_page", None),
    ("/api/v1/organizations/departments/", "page_size", None),
    ("/api/v1/organizations/regions/", "page_size", None),
    ("/api/v1/accounts/users/", "page_size", None),
    ("/api/v1/accounts/role-assignments/", "page_size", None),
    ("/api/v1/audit/events/", "page_size", ("auditor",)),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100, help="demo scale (default 100)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per row")
    parser.add_argument("--data-dir", help="reuse this data directory instead of a fresh one")
    args = parser.parse_args()
    if args.requests < 2:
        parser.error("--requests must be at least 2 to give a percentile")
    return args


def postgres_database():
    """(connection kwargs for the maintenance database, benchmark database name), or None."""
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    if not url.scheme.startswith("postgres"):
        return None
    name = url.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to drop and create {name!r}: use a database named like *bench*")
    server = {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password,
        "dbname": "postgres",
        "autocommit": True,
    }
    return server, name


def prepare_postgres(server, name, fresh):
    """Create the benchmark database (dropping an old one first when ``fresh``)."""
    import psycopg

    with psycopg.connect(**server) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres(server, name):
    import psycopg

    with psycopg.connect(**server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def percentile(samples, pct):
    """The ``pct`` percentile of ``samples`` (linear interpolation between ranks)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def measure(client, path, count):
    """Warm up, then time ``count`` GETs of ``path``; (times in ms, query counts, status)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARM_UPS):
        client.get(path)
    times, queries, statuses = [], [], set()
    for _ in range(count):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
        times.append(elapsed * 1000)
        queries.append(len(captured))
        statuses.add(response.status_code)
    return times, queries, statuses


def query_count(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return len(captured)


def main():
    args = parse_args()
    fresh = args.data_dir is None
    data_dir = tempfile.mkdtemp(prefix="zhengyun-bench-") if fresh else args.data_dir
    os.environ["ZHENGYUN_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengyun.settings")
    os.environ.setdefault("ZHENGYUN_LOG_LEVEL", "WARNING")  # no log line per request

    pg = postgres_database()
    if pg:
        prepare_postgres(*pg, fresh)

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from zhengyun.accounts.models import User
    from zhengyun.audit.models import AuditEvent
    from zhengyun.organizations.models import Department

    try:
        call_command("migrate", interactive=False, verbosity=0)
        if User.objects.filter(username="secadmin").exists() and not fresh:
            load_note = "reused an existing demo"
        else:
            started = time.perf_counter()
            call_command("demo", scale=args.scale, stdout=sys.stderr)
            load_note = f"{time.perf_counter() - started:.1f} s"
        if connection.vendor == "postgresql":
            # What autovacuum does soon after a bulk load; otherwise it competes for the CPU
            # while we measure, and the planner works from statistics taken mid-load.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

        sqlite = connection.vendor == "sqlite"
        with connection.cursor() as cursor:
            cursor.execute("SELECT sqlite_version()" if sqlite else "SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
        database = f"{connection.vendor} {version}"
        print(f"Database: {database}; demo scale {args.scale}; load: {load_note}")
        print(
            f"Rows: {Department.objects.count()} departments, {User.objects.count()} users, "
            f"{AuditEvent.objects.count()} audit events; {args.requests} timed requests "
            f"per row after {WARM_UPS} warm-ups\n"
        )

        print(
            "| database | scale | role | path | status | median ms | p95 ms | max queries "
            "| queries 10 / 50 rows | target | meets target |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        users = {u.username: u for u in User.objects.filter(username__in=[*ROLES, "auditor"])}
        # As `zhengyun serve` does once the application is loaded: long-lived objects (here
        # also the demo loader's leftovers) stay out of the collector's full passes.
        gc.collect()
        gc.freeze()
        for path, page_param, roles in CASES:
            target = API_TARGET_MS if path.startswith("/api/") else PAGE_TARGET_MS
            for role in roles or ROLES:
                client = Client(raise_request_exception=False)
                client.force_login(users[role])
                times, queries, statuses = measure(client, path, args.requests)
                p95 = percentile(times, 95)
                verdict = "yes" if p95 < target else "NO"
                if statuses != {200}:
                    verdict = "error"  # a failing page's time means nothing
                growth = "–"
                if page_param:
                    small = query_count(client, f"{path}?{page_param}=10")
                    growth = f"{small} / {max(queries)}"
                    if max(queries) > small:
                        growth += " (N+1)"
                print(
                    f"| {database} | {args.scale} | {role} | `{path}` "
                    f"| {', '.join(map(str, sorted(statuses)))} "
                    f"| {statistics.median(times):.1f} | {p95:.1f} | {max(queries)} "
                    f"| {growth} | {target} ms | {verdict} |",
                    flush=True,
                )
    finally:
        connection.close()
        if pg and fresh:
            drop_postgres(*pg)
        if fresh:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
    sys.exit(0)
