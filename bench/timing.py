"""Timing helpers: medians of several runs, latency percentiles, phases of a run. Printed, never asserted."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@dataclass
class Phase:
    name: str
    seconds: float
    load_start: float
    load_end: float
    note: str = ""


class Phases:
    """Where a harness run's time goes: `with phases("ingest"): ...` records wall seconds and load average."""

    def __init__(self, log: Callable[[str], object] | None = None) -> None:
        self.done: list[Phase] = []
        self._log = log

    @contextmanager
    def __call__(self, name: str) -> Iterator[Phase]:
        load = os.getloadavg()[0]
        phase = Phase(name, 0.0, load, load)
        start = time.perf_counter()
        try:
            yield phase
        finally:
            phase.seconds = time.perf_counter() - start
            phase.load_end = os.getloadavg()[0]
            self.done.append(phase)
            if self._log:
                self._log(f"phase {name}: {phase.seconds:.1f} s (load {phase.load_start:.1f} → {phase.load_end:.1f})")

    def seconds(self, name: str) -> float | None:
        return next((p.seconds for p in self.done if p.name == name), None)

    def table(self) -> str:
        total = sum(p.seconds for p in self.done)
        out = ["| phase | seconds | share | load average (start → end) | notes |", "|---|---|---|---|---|"]
        for p in self.done:
            share = p.seconds / total if total else 0
            out.append(
                f"| {p.name} | {p.seconds:.1f} | {share:.0%} | {p.load_start:.1f} → {p.load_end:.1f} | {p.note} |"
            )
        out.append(f"| **total** | {total:.1f} | 100% |  |  |")
        return "\n".join(out) + "\n"
