"""The gateway's call log (R-D3): sealing calls into the SM3 chain with SM2-signed batches,
and verifying the whole chain, in calls a second.

    python benchmarks/gateway_call_log.py [--calls 1000000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/calllog_bench python benchmarks/...

The calls are inserted unsealed in bulk, as the gateway leaves them, with the fields a real
call carries (an application, both departments, a grant, a resource code, two item names,
a record count, a result); then ``calllog.seal_all()`` chains and signs them in batches and
``calllog.verify()`` recomputes the chain from the first call and checks every signature.
The issue's figure: verification at least 100,000 calls a second.
"""

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from scratch_database import scratch_database  # noqa: E402

INSERT_BATCH = 5000
RESULTS = ["ok"] * 18 + ["item_not_granted", "rate_limited"]


def insert_calls(count):
    from zhengyun.gateway.models import GatewayCall

    start_us = 1_790_000_000_000_000
    made = 0
    while made < count:
        size = min(INSERT_BATCH, count - made)
        GatewayCall.objects.bulk_create(
            GatewayCall(
                at_us=start_us + (made + i) * 1000,
                request_id=uuid.uuid4().hex,
                client_id=f"client{(made + i) % 40:04d}",
                resource_code=f"101001/{(made + i) % 500:06d}",
                operation="records",
                items=["姓名", "公民身份号码"],
                records=(made + i) % 21,
                status=200,
                result=RESULTS[(made + i) % len(RESULTS)],
            )
            for i in range(size)
        )
        made += size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    options = parser.parse_args()
    with scratch_database("calllog") as connection:
        from zhengyun.gateway import calllog

        started = time.perf_counter()
        insert_calls(options.calls)
        inserted = time.perf_counter() - started
        started = time.perf_counter()
        sealed = calllog.seal_all()
        sealing = time.perf_counter() - started
        started = time.perf_counter()
        checked = calllog.verify()
        verifying = time.perf_counter() - started
        assert checked.intact and checked.calls == sealed == options.calls, checked
        database = (
            f"{connection.vendor} {connection.Database.sqlite_version}"
            if (connection.vendor == "sqlite")
            else f"{connection.vendor} {connection.pg_version // 10000}"
        )
        print(f"{options.calls:,} calls, {checked.seals} signed batches")
        print()
        print("| database | step | seconds | calls/s |")
        print("| --- | --- | ---: | ---: |")
        for step, seconds in (
            ("insert, unsealed (bulk)", inserted),
            ("seal: SM3 chain, SM2 per batch", sealing),
            (f"verify {options.calls:,} calls", verifying),
        ):
            print(f"| {database} | {step} | {seconds:.2f} | {options.calls / seconds:,.0f} |")


if __name__ == "__main__":
    main()
