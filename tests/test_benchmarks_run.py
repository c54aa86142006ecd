"""``make bench`` keeps working as the platform changes: the benchmarks that drive the
platform's own services run end to end at a tiny size and print their tables."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zhengyun.testing.processes import embedded_environment

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
LOAD = "wrk" if shutil.which("wrk") else "python"


@pytest.mark.parametrize(
    ("script", "arguments", "last_word"),
    [
        ("placement_claims.py", ["--hosts", "100", "--decisions", "20", "--rounds", "1",
                                 "--baseline-decisions", "5"], "hosts over capacity: 0"),
        ("audit_chain.py", ["--appends", "40", "--writers", "2", "--verify-events", "300"],
         "| sqlite | verify 300 events |"),
        ("catalog_search.py", ["--records", "2000", "--rounds", "1"], "| sqlite 3."),
        ("gateway_call_log.py", ["--calls", "3000"], "| verify 3,000 calls |"),
        # wrk when installed (make test-deps installs it where it may), else this process.
        ("gateway_throughput.py", ["--clients", "2", "--seconds", "1", "--rounds", "1",
                                   "--workers", "1", "--load", LOAD], "calls logged:"),
    ],
)  # fmt: skip
def test_a_benchmark_runs_at_a_tiny_size(migrated_database_template, script, arguments, last_word):
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        env={
            **embedded_environment(),
            "ZHENGYUN_BENCH_MIGRATED_DB": str(migrated_database_template),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert last_word in done.stdout.splitlines()[-1], done.stdout
