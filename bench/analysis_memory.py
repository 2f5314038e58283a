"""What reading a big file costs before anything is written (issue 18, "Speed and memory").

`manage.py propose_mapping FILE --json` as a process (upload's dialect sniff, profile with its grain and date
evidence, proposal), timed from start to JSON with its peak RSS, on orders exports of growing size, beside the
same command on the first 10,000 rows of the same file: the difference is what the file's size adds.

    .venv/bin/python -m bench.analysis_memory [--sizes 100,1024] [--runs 3]

Targets: the analysis adds at most 1 s for a ~1M-row, 100 MB file; under 500 MB RSS for a 1 GB file.
Files are generated once under .data/bench/ (bench.profile's seeded orders-like export); the processes run
with UPLOAD_MAX_MB=2048, the 1 GB file being above the default limit (200 MB).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.profile import _generate

ROOT = Path(__file__).resolve().parent.parent
HEAD_ROWS = 10_000


def _run(path: Path) -> tuple[float, float, float]:
    """(seconds, peak RSS in MB, CPU seconds) of one propose_mapping process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "propose_mapping", str(path), "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "UPLOAD_MAX_MB": "2048"},  # the 1 GB file is above the default upload limit
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"propose_mapping failed on {path}")
    if not out.startswith(b"{"):
        raise SystemExit(f"propose_mapping printed no JSON on {path}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def _head(path: Path, rows: int) -> Path:
    head = path.with_name(f"{path.stem}-head{rows}.csv")
    if not head.exists():
        with path.open() as src, head.open("w") as dst:
            for i, line in enumerate(src):
                if i > rows:
                    break
                dst.write(line)
    return head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1024", help="file sizes in MB (default 100,1024)")
    parser.add_argument("--runs", type=int, default=3, help="runs per file (median reported)")
    args = parser.parse_args(argv)
    rows = []
    for mb in (int(s) for s in args.sizes.split(",")):
        path = ROOT / ".data" / "bench" / f"profile-{mb}MB.csv"
        if not path.exists():
            _generate(path, megabytes=mb)
        head = _head(path, HEAD_ROWS)
        big, small = [], []
        for _ in range(args.runs):  # interleaved: the machine's load hits both alike
            small.append(_run(head))
            big.append(_run(path))
        rows.append((mb, path, big, small))
    print(f"load average {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()}), median of {args.runs} runs\n")
    print(
        "| file | propose_mapping, start to JSON (CPU) | same on its first 10,000 rows (CPU) | the file's size adds "
        "(CPU) | peak RSS | target |"
    )
    print("|---|---|---|---|---|---|")
    for mb, path, big, small in rows:
        b, b_cpu = statistics.median(r[0] for r in big), statistics.median(r[2] for r in big)
        s, s_cpu = statistics.median(r[0] for r in small), statistics.median(r[2] for r in small)
        rss = max(r[1] for r in big)
        target = "adds <= 1 s" if mb <= 100 else "RSS < 500 MB"
        met = (b - s) <= 1.0 if mb <= 100 else rss < 500
        print(
            f"| {path.name} ({path.stat().st_size / 1e6:.0f} MB) | {b:.2f} s ({b_cpu:.2f} s) "
            f"| {s:.2f} s ({s_cpu:.2f} s) "
            f"| {b - s:+.2f} s ({b_cpu - s_cpu:+.2f} s) "
            f"| {rss:.0f} MB (first 10,000 rows: {max(r[1] for r in small):.0f} MB) | {target}: "
            f"{'met' if met else 'MISSED'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
