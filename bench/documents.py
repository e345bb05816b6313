"""Supporting documents: encryption throughput and streaming memory of the vault, on the
filesystem storage in a temporary directory (removed at the end). Prints two lines.

    python bench/documents.py [--megabytes 100]
"""

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MEGABYTE = 1024 * 1024


def _setup(directory: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["RELAIS_DOCUMENTS_DIR"] = directory
    os.environ.pop("RELAIS_DOCUMENTS_S3_BUCKET", None)
    import django

    django.setup()


def _french(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def _max_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def bench_write(megabytes: int):  # -> tuple[StoredBlob, float]
    """MB/s of blob_write, not counting the time spent generating the random data."""
    from relais.documents import vault

    generating = 0.0

    def source():
        nonlocal generating
        for _ in range(megabytes):
            start = time.perf_counter()
            chunk = os.urandom(MEGABYTE)
            generating += time.perf_counter() - start
            yield chunk

    start = time.perf_counter()
    blob = vault.blob_write(source())
    elapsed = time.perf_counter() - start - generating
    assert blob.size == megabytes * MEGABYTE
    return blob, megabytes / elapsed


def _stream(blob) -> int:
    from relais.documents import vault

    received = 0
    for chunk in vault.blob_read(
        name=blob.name, wrapped_key=blob.wrapped_key, size=blob.size, sha256=blob.sha256
    ):
        received += len(chunk)
    return received


def bench_read(blob) -> dict[str, float]:
    """One pass untraced (throughput, growth of the max RSS), one under tracemalloc
    (peak of Python allocations), both reading and checking the whole blob. The max RSS
    is a high-water mark: the growth only shows what reading adds above the peak already
    reached by the write."""
    rss_before = _max_rss_bytes()
    start = time.perf_counter()
    received = _stream(blob)
    elapsed = time.perf_counter() - start
    rss_growth = _max_rss_bytes() - rss_before
    assert received == blob.size

    tracemalloc.start()
    try:
        assert _stream(blob) == blob.size
        _, python_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {
        "mb_per_s": received / MEGABYTE / elapsed,
        "python_peak_mb": python_peak / MEGABYTE,
        "rss_growth_mb": rss_growth / MEGABYTE,
        "rss_max_mb": _max_rss_bytes() / MEGABYTE,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=100, help="size of the blob")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="relais-bench-documents-") as directory:
        _setup(directory)
        from relais.documents import vault

        blob, write_mb_per_s = bench_write(args.megabytes)
        try:
            read = bench_read(blob)
        finally:
            vault.blob_delete(blob.name)

    print(f"pièces : chiffrement et écriture {write_mb_per_s:.0f} Mo/s")
    print(
        f"pièces : lecture en flux de {args.megabytes} Mo, "
        f"pic mémoire Python {_french(read['python_peak_mb'], 1)} Mo, "
        f"RSS max du processus {_french(read['rss_max_mb'], 1)} Mo "
        f"(+{_french(read['rss_growth_mb'], 1)} Mo pendant la lecture), "
        f"déchiffrement et vérification {read['mb_per_s']:.0f} Mo/s"
    )


if __name__ == "__main__":
    main()
