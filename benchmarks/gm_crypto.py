"""Throughput of the 国密 module: SM2 signatures, verifications, encryptions and decryptions
per second, SM3 and SM4-GCM megabytes per second. Each figure is the median of five rounds,
printed as a table.

    python benchmarks/gm_crypto.py
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from zhengyun.crypto import gm  # noqa: E402

ROUNDS = 5


def rate(operation, count):
    """Median operations per second of ``operation`` run ``count`` times, over ROUNDS."""
    results = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(count):
            operation()
        results.append(count / (time.perf_counter() - started))
    return statistics.median(results)


def main():
    key = gm.sm2_generate_key()
    public = key.public_key()
    message = b"audit checkpoint " * 4
    signature = gm.sm2_sign(key, message)
    sealed = gm.sm2_encrypt(public, message)
    block = b"\x5a" * (8 * 1024 * 1024)
    sm4 = gm.sm4_key()
    rows = [
        ("SM2 sign (64-byte message)", rate(lambda: gm.sm2_sign(key, message), 1000), "/s"),
        ("SM2 verify", rate(lambda: gm.sm2_verify(public, signature, message), 1000), "/s"),
        ("SM2 encrypt (64-byte message)", rate(lambda: gm.sm2_encrypt(public, message), 500), "/s"),
        ("SM2 decrypt", rate(lambda: gm.sm2_decrypt(key, sealed), 500), "/s"),
        ("SM3 (8 MiB buffers)", rate(lambda: gm.sm3(block), 4) * 8, "MiB/s"),
        (
            "SM4-GCM encrypt (8 MiB buffers)",
            rate(lambda: gm.sm4_gcm_encrypt(sm4, block), 4) * 8,
            "MiB/s",
        ),
    ]
    print("| operation | median rate | unit |")
    print("|---|---|---|")
    for name, value, unit in rows:
        print(f"| {name} | {value:,.0f} | {unit} |")


if __name__ == "__main__":
    main()
