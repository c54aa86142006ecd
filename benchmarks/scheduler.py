"""The placement scheduler against its peers' policies on one seeded trace (R-I4, R-G3): the
same as ``zhengyun bench scheduler``, from a checkout. What it measures and how:
``zhengyun.infrastructure.scheduler.bench``.

    python benchmarks/scheduler.py --hosts 10000 --arrivals 100000 --seed 1 [--json]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from zhengyun.infrastructure.scheduler.bench import main  # noqa: E402

if __name__ == "__main__":
    main()
