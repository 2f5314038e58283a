"""What a user waits for: `manage.py ingest FILE --auto --json` as a process, start to JSON, beside psql
`\\copy` of the same file in the same run (runs interleaved: copy, ours, copy, ...).

    python -m bench.ingest_auto [--orders 1000000] [--runs 3]      (make bench-auto)

It loads into its own database, ll_bench_auto, on DATABASE_URL's server (else the embedded one).

Each of our runs loads the orders file into an emptied canonical_orders (a first load, as a new user's
would be). Prints a table: medians, the ratio to \\copy, the size of the JSON printed, and the process's
peak RSS. Also times the profile (with its grain and date evidence) of the same file on its own.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench import references as refs
from bench.database import ensure_database, server_url, with_database
from bench.generate import generate_cached

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _env(url: str) -> dict:
    # As bench/database.py: DEBUG off (it keeps every query), files up to 4 GB.
    return dict(os.environ, DATABASE_URL=url, DEBUG="false", UPLOAD_MAX_MB="4096", EMBEDDED_QUIET="1")


def _empty(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE canonical_order_lines, canonical_orders RESTART IDENTITY CASCADE")


def _ingest(url: str, path: Path) -> tuple[float, int, float, str]:
    """(seconds to the JSON, bytes of JSON, peak RSS MB of the process, the JSON's first 200 characters)."""
    env = _env(url)
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "manage.py", "ingest", str(path), "--auto", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ingest --auto failed: {done.stderr.strip().splitlines()[-2:]}")
    # The largest child this harness has waited for: every child is an ingest run (the copies run psql).
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, len(done.stdout.encode()), rss_mb, done.stdout[:200]


def _profile_seconds(path: Path) -> float:
    code = (
        "import os, time, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.local');"
        "django.setup(); from mappings.intake.dialect import sniff_file; "
        f"from mappings.profiling.profile import profile_file; from pathlib import Path; p = Path({str(path)!r}); "
        "t = time.perf_counter(); profile_file(path=p, dialect=sniff_file(p).as_json()); "
        "print(time.perf_counter() - t)"
    )
    done = subprocess.run([PYTHON, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / ".data" / "bench" / "ingest_auto")
    args = parser.parse_args(argv)
    url = with_database(server_url(), "ll_bench_auto")
    ensure_database(url)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=_env(url), check=True)
    files = generate_cached(args.out / str(args.orders), orders=args.orders)
    orders = files["orders.csv"]
    refs.reference_schema_create(url)
    copies, ours, sizes, rss = [], [], [], []
    for _ in range(args.runs):
        copies.append(refs.ref_psql_copy(url, orders, runs=1)["seconds"])
        _empty(url)
        seconds, size, peak, head = _ingest(url, orders)
        ours.append(seconds)
        sizes.append(size)
        rss.append(peak)
    copies.append(refs.ref_psql_copy(url, orders, runs=1)["seconds"])
    profile = statistics.median(_profile_seconds(orders) for _ in range(args.runs))
    copy_s, ours_s = statistics.median(copies), statistics.median(ours)
    mb = orders.stat().st_size / 1e6
    print(f"\n`ingest --auto --json` on {args.orders:,} orders ({mb:.0f} MB), {args.runs} runs, medians\n")
    print("| what | seconds | of \\copy | notes |")
    print("|---|---|---|---|")
    print(f"| psql \\copy of the orders file | {copy_s:.2f} | 1.00 | runs {', '.join(f'{c:.2f}' for c in copies)} |")
    print(
        f"| `manage.py ingest FILE --auto --json`, process start to JSON | {ours_s:.2f} | {copy_s / ours_s:.2f} | "
        f"runs {', '.join(f'{o:.2f}' for o in ours)}; JSON {max(sizes):,} bytes; peak RSS {max(rss):.0f} MB |"
    )
    print(f"| profile with grain and date evidence (sampled) | {profile:.2f} | - | in-process, after Django start |")
    print(f"\nJSON starts: {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
