"""The cost of a password check: argon2 hashing and verifying at the parameters the platform
uses (Django's Argon2PasswordHasher), in milliseconds, median of ROUNDS rounds; and the
same for PBKDF2, the fallback hasher, for comparison.

    python benchmarks/sign_in.py

Django's argon2 defaults (time cost 2, 100 MiB, 8 lanes) are kept: about a tenth of a second
per check on two cores — slow enough that a stolen password table resists guessing, and paid
once per sign-in (sessions and API tokens carry on without it); the lock stops online
guessing long before the cost matters.
"""

import os
import statistics
import tempfile
import time

ROUNDS = 7
PASSWORD = "Measured-pass-2026"


def median_ms(operation, count):
    results = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(count):
            operation()
        results.append((time.perf_counter() - started) / count * 1000)
    return statistics.median(results)


def main():
    os.environ["ZHENGYUN_DATA_DIR"] = tempfile.mkdtemp(prefix="zhengyun-bench-sign-in-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengyun.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import get_hasher

    print("| hasher | parameters | hash | verify |")
    print("|---|---|---|---|")
    for algorithm in ("argon2", "pbkdf2_sha256"):
        hasher = get_hasher(algorithm)
        encoded = hasher.encode(PASSWORD, hasher.salt())
        if algorithm == "argon2":
            parameters = (
                f"time {hasher.time_cost}, memory {hasher.memory_cost // 1024} MiB, "
                f"parallelism {hasher.parallelism}"
            )
        else:
            parameters = f"{hasher.iterations:,} iterations"
        hash_ms = median_ms(lambda h=hasher: h.encode(PASSWORD, h.salt()), 5)
        verify_ms = median_ms(lambda h=hasher, e=encoded: h.verify(PASSWORD, e), 5)
        print(f"| {algorithm} | {parameters} | {hash_ms:.1f} ms | {verify_ms:.1f} ms |")


if __name__ == "__main__":
    main()
