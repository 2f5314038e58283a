"""Timing helpers: medians of several runs and latency percentiles. Printed, never asserted."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Timing:
    """Wall-clock seconds of each run; `median` is what the table shows."""

    runs: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def spread(self) -> str:
        """min–max of the runs, to show how much a shared machine drifted."""
        if len(self.runs) < 2:
            return ""
        return f"{min(self.runs):.2f}–{max(self.runs):.2f} s over {len(self.runs)} runs"


def time_runs(fn: Callable[[], object], *, runs: int, before: Callable[[], object] | None = None) -> Timing:
    """Run `before` (untimed: e.g. empty the target table) then `fn` (timed), `runs` times."""
    timing = Timing()
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        timing.runs.append(time.perf_counter() - start)
    return timing


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latencies_ms(fn: Callable[[], object], *, count: int, warmup: int = 3) -> list[float]:
    """Milliseconds of `count` calls of `fn`, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out
