"""Profile + Quick Viz of a big CSV vs a DuckDB `read_csv` full scan of the same file.

    .venv/bin/python -m bench.profile FILE        # e.g. the harness's 100 MB orders file
    .venv/bin/python -m bench.profile             # generates a 100 MB orders-like file under .data/bench/

Our path reads a sample (SAMPLE_BYTES from SAMPLE_CHUNKS byte ranges spread over the file) for the
profile and the charts, so its time does not grow with the file, and estimates the row count from
the bytes; the scan is what reading the whole file costs DuckDB at best. The notes also give what the
upload itself reads: a big file's header only (its one-pass count of rows and of rows with more fields
than the header runs after the upload, in a Celery task, or before its first execution).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _median_seconds(fn, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2], times


def _duckdb_scan(path: Path) -> None:
    import duckdb

    with duckdb.connect() as con:
        con.execute("SELECT count(*) FROM read_csv(?, all_varchar = true, header = true)", [str(path)]).fetchall()


def run_profile_bench(path: str | os.PathLike, runs: int = 3) -> list[dict]:
    """Rows for the shared harness: median seconds of profile + Quick Viz, and of a full DuckDB scan."""
    from mappings.intake.dialect import sniff_file
    from mappings.intake.duck import file_columns, file_layout
    from mappings.profiling.profile import profile_file
    from mappings.profiling.sample import SAMPLE_BYTES, SAMPLE_CHUNKS

    path = Path(path)
    dialect = sniff_file(path).as_json()
    document: dict = {}

    def ours() -> None:
        document.update(profile_file(path=path, dialect=dialect))

    ours_s, ours_runs = _median_seconds(ours, runs)
    scan_s, _ = _median_seconds(lambda: _duckdb_scan(path), runs)
    layout: list = []
    upload_s, _ = _median_seconds(lambda: layout.append(file_layout(path, dict(dialect))), runs)
    header_s, _ = _median_seconds(lambda: file_columns(path, dict(dialect)), runs)
    size_mb = path.stat().st_size / 1024 / 1024
    return [
        {
            "what": f"profile + Quick Viz of a {size_mb:.0f} MB file",
            "topic": "profile",
            "ours": round(ours_s, 3),
            "unit": "s",
            "reference": "DuckDB read_csv full scan",
            "reference_value": round(scan_s, 3),
            "ratio": round(ours_s / scan_s, 2) if scan_s else None,
            "target": "< 1 s",
            "met": ours_s < 1.0,
            "notes": (
                f"{len(document.get('columns', []))} columns profiled on {document.get('rows_profiled')} sampled rows"
                f" ({SAMPLE_BYTES // 1024} KB from {SAMPLE_CHUNKS} byte ranges; sampled={document.get('sampled')}),"
                f" rows ≈ {document.get('rows_estimated')} (counted: {layout[-1][1]}),"
                f" {len(document.get('charts', []))} charts; runs "
                + ", ".join(f"{t:.3f}" for t in ours_runs)
                + f"; at upload: header only {header_s:.3f} s (files > 16 MB; their one-pass row and ragged-row"
                f" count, {upload_s:.3f} s, runs after the upload, as smaller files' does during it)"
            ),
        }
    ]


def _generate(path: Path, megabytes: int = 100) -> None:
    """An orders-like export of about `megabytes` MB (seeded)."""
    rng = random.Random(42)
    statuses = ["completed", "processing", "cancelled", "refunded"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fh.write("Order ID,Order Date,Customer Email,Status,Country,Quantity,Total,Note\n")
        written, i = 0, 0
        while written < megabytes * 1024 * 1024:
            line = (
                f"ORD-{i:08d},{2021 + i % 5}-{1 + i % 12:02d}-{1 + i % 28:02d},user{rng.randint(1, 90000)}@example.com,"
                f"{rng.choice(statuses)},{rng.choice(['DE', 'FR', 'US', 'ES'])},{rng.randint(1, 20)},"
                f"{rng.randint(100, 500000) / 100:.2f},note {rng.randint(1, 999)}\n"
            )
            fh.write(line)
            written += len(line)
            i += 1


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, help="a CSV (default: a generated 100 MB orders file)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measure (the median is reported)")
    args = parser.parse_args()
    django.setup()
    path = args.file or ROOT / ".data" / "bench" / "profile-100MB.csv"
    if args.file is None and not path.exists():
        _generate(path)
    print(f"load average {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    for row in run_profile_bench(path, runs=args.runs):
        print(
            f"| {row['what']} | ours {row['ours']} s | {row['reference']} {row['reference_value']} s | {row['notes']} |"
        )


if __name__ == "__main__":
    main()
