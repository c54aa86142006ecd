"""Audit trail throughput: appending with the SM3 hash chain against the same inserts
without it (side by side, same process), and the speed of ``audit verify``.

    python benchmarks/audit_chain.py [--appends 3000] [--verify-events 200000] [--writers 4]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhengyun_bench python benchmarks/...

Each append runs in its own transaction, as a service's would, from one writer and from
``--writers`` processes at once (four by default: the platform's web and worker processes
appending together, each with its own connection). A chained append is counted once the
event is sealed into the chain: the sealer runs in a process of its own, as in a worker,
and the clock stops when the last event is sealed. The verification trail is written in
bulk (chained in Python, inserted in batches) and then verified from the database. On
PostgreSQL the named database (its name must contain
"bench") is created afresh and dropped at the end.
"""

import argparse
import multiprocessing
import os
import statistics
import time

from scratch_database import scratch_database

ROUNDS = 3


def run_sealer(stop):
    """A worker's sealer, in a process of its own, until ``stop`` is set."""
    from zhengyun.audit.sealer import Sealer

    sealer = Sealer()
    sealer.start()
    stop.wait()
    sealer.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--verify-events", type=int, default=200_000)
    parser.add_argument(
        "--writers", type=int, default=4, help="processes appending at once in the second run"
    )
    args = parser.parse_args()

    with scratch_database("audit") as connection:
        from django.db import transaction
        from django.utils import timezone

        from zhengyun.audit.chain import CHAINED_FIELDS, GENESIS_HASH, event_hash
        from zhengyun.audit.models import AuditChainHead, AuditEvent
        from zhengyun.audit.services import record, verify_trail

        database = connection.vendor

        def chained():
            with transaction.atomic():
                record(actor=None, action="bench.append", detail="x" * 40)

        def until_sealed():
            while AuditEvent.objects.filter(hash="").exists():
                time.sleep(0.005)

        plain_seq = [10**12]  # far above the chain's numbers

        def plain_event(seq):
            return AuditEvent(
                occurred_at=timezone.now(),
                actor_label="system",
                channel="cli",
                request_id="bench",
                action="bench.plain",
                result="success",
                detail="x" * 40,
                seq=seq,
                prev_hash="0" * 64,
                hash="0" * 64,
            )

        def unchained():
            plain_seq[0] += 1
            with transaction.atomic():
                plain_event(plain_seq[0]).save(force_insert=True)

        def rate(operation, then=None):
            started = time.perf_counter()
            for _ in range(args.appends):
                operation()
            if then:
                then()
            return args.appends / (time.perf_counter() - started)

        def concurrent_rate(operation, then=None):
            """Appends per second from ``--writers`` processes at once, as from the
            platform's web and worker processes."""
            each = args.appends // args.writers
            forking = multiprocessing.get_context("fork")
            connection.close()  # each writer opens its own
            go = forking.Event()

            def writer(index):
                plain_seq[0] += (index + 1) * 10**9  # made-up sequence numbers apart
                go.wait()
                for _ in range(each):
                    operation()
                connection.close()

            writers = [forking.Process(target=writer, args=(n,)) for n in range(args.writers)]
            for process in writers:
                process.start()
            started = time.perf_counter()
            go.set()
            for process in writers:
                process.join()
                assert process.exitcode == 0, "a writer failed"
            plain_seq[0] += (args.writers + 1) * 10**9  # past the writers' numbers
            if then:
                then()
            return each * args.writers / (time.perf_counter() - started)

        connection.close()  # the sealer's process opens its own
        stop_sealing = multiprocessing.get_context("fork").Event()
        sealing = multiprocessing.get_context("fork").Process(
            target=run_sealer, args=(stop_sealing,)
        )
        sealing.start()
        rates = {"chained": [], "plain": [], "chained_concurrent": [], "plain_concurrent": []}
        try:
            for _ in range(ROUNDS):  # interleaved, so both see the same machine
                rates["plain"].append(rate(unchained))
                rates["chained"].append(rate(chained, then=until_sealed))
                rates["plain_concurrent"].append(concurrent_rate(unchained))
                rates["chained_concurrent"].append(concurrent_rate(chained, then=until_sealed))
        finally:
            stop_sealing.set()
            sealing.join()
        median = {name: statistics.median(values) for name, values in rates.items()}

        # A long trail for verify: remove the benchmark's events, then chain N in bulk.
        from zhengyun.audit import triggers

        triggers.remove(connection)
        AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)
        triggers.install(connection)
        previous, batch, now = GENESIS_HASH, [], timezone.now()
        for seq in range(1, args.verify_events + 1):
            values = dict.fromkeys(CHAINED_FIELDS, "")
            values.update(
                seq=seq,
                occurred_at=now,
                actor_id=None,
                actor_department_id=None,
                source_ip="10.0.0.1",
                changes={"n": [seq - 1, seq]},
                actor_label="system",
                channel="task",
                action="bench.verify",
                result="success",
                prev_hash=previous,
            )
            previous = event_hash(values)
            batch.append(AuditEvent(hash=previous, **values))
            if len(batch) == 5000:
                AuditEvent.objects.bulk_create(batch)
                batch = []
        AuditEvent.objects.bulk_create(batch)
        AuditChainHead.objects.update_or_create(
            pk=1, defaults={"seq": args.verify_events, "hash": previous}
        )
        started = time.perf_counter()
        result = verify_trail(workers=os.cpu_count() or 1)  # as `zhengyun audit verify`
        seconds = time.perf_counter() - started
        assert result.intact and result.checked == args.verify_events

        print("| database | measure | median | unit |")
        print("|---|---|---|---|")
        row = "| {} | {} | {} | {} |"
        for label, chained_key, plain_key in (
            ("one writer", "chained", "plain"),
            (f"{args.writers} writers at once", "chained_concurrent", "plain_concurrent"),
        ):
            print(
                row.format(
                    database,
                    f"append, chained, {label} (own transaction each)",
                    f"{median[chained_key]:,.0f}",
                    "events/s",
                )
            )
            print(
                row.format(
                    database,
                    f"append, same insert without chain, {label}",
                    f"{median[plain_key]:,.0f}",
                    "events/s",
                )
            )
            print(
                row.format(
                    database,
                    f"chained / plain, {label}",
                    f"{median[chained_key] / median[plain_key]:.0%}",
                    "",
                )
            )
        print(
            f"| {database} | verify {args.verify_events:,} events | "
            f"{args.verify_events / seconds:,.0f} | events/s ({seconds:.1f} s) |"
        )


if __name__ == "__main__":
    main()
