"""Where one KPI widget read's time goes, in process, per step: the caller's scope and freshness (Redis), the query
build, the cache keys and lookup, the statement's compilation, the script's client-side binding, the round trip to
PostgreSQL (server time included), decoding the rows, the cache write.

    DATABASE_URL=…/ll_7_kpi python -m bench.scope_cost [--reads 30] [--roles VP,rep] [--only "Monthly revenue"]

On a database prepared and built already (e.g. `bench.run --scale 300000 --employees 5000 --prepare-only`, then
every KPI view refreshed): the roles of bench/scaleout.py (`_roles`), each read of `_reads` as the page makes it,
hot (only the result cache emptied before each read, untimed). Each step's time is exclusive (a step nested in
another is counted once, in the inner one). Printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from contextlib import ExitStack
from datetime import UTC, datetime
from unittest import mock

# (module attribute to wrap, step name): the functions a widget read passes through.
STEPS = (
    ("dashboards.selectors.kpi_read_context", "scope + freshness (cache)"),
    ("dashboards.selectors.widget_query", "query build"),
    ("dashboards.selectors._cache_key", "result cache key"),
    ("dashboards.selectors.cache_get_many", "cache read (Redis)"),
    ("dashboards.selectors._statement", "statement compile"),
    ("dashboards.selectors._cache_set_many", "cache write (Redis)"),
    ("dashboards.kpi.read._scoped_read", "script compose + settings"),
    ("dashboards.kpi.read._script_results", "decode rows"),
    ("psycopg.ClientCursor._convert_query", "bind parameters (client)"),
    ("psycopg.ClientCursor.execute", "round trip + server"),
)


CONTEXT_STEP = STEPS[0][1]


class StepClock:
    """Exclusive wall time per step: time spent in a nested step is taken out of its caller's."""

    def __init__(self):
        self.totals: dict[str, float] = defaultdict(float)
        self._stack: list[list] = []  # [name, started, nested]

    def wrap(self, name, fn):
        clock = self

        def timed(*args, **kwargs):
            # The access generation and scope queries of a cache miss are the scope step's, not the read's round trip.
            inherit = clock._stack and clock._stack[-1][0] == CONTEXT_STEP
            clock._stack.append([CONTEXT_STEP if inherit else name, time.perf_counter(), 0.0])
            try:
                return fn(*args, **kwargs)
            finally:
                step, started, nested = clock._stack.pop()
                spent = time.perf_counter() - started
                clock.totals[step] += spent - nested
                if clock._stack:
                    clock._stack[-1][2] += spent

        return timed


def _patched(clock: StepClock) -> ExitStack:
    import importlib

    stack = ExitStack()
    for target, name in STEPS:
        module_name, _, attr = target.rpartition(".")
        try:
            owner = importlib.import_module(module_name)
        except ImportError:  # a class attribute: module.Class.method
            module_name, _, cls = module_name.rpartition(".")
            owner = getattr(importlib.import_module(module_name), cls)
        stack.enter_context(mock.patch.object(owner, attr, clock.wrap(name, getattr(owner, attr))))
    return stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=30)
    parser.add_argument("--roles", default="VP,rep")
    parser.add_argument("--only", help="comma-separated parts of the read labels to measure")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from bench.scaleout import _forget_cached_rows, _reads, _roles
    from bench.timing import percentile

    users, _, roles, scope = _roles()
    only = tuple(p for p in (args.only or "").split(",") if p)
    wanted = [r for r in args.roles.split(",") if r]
    load = os.getloadavg()[0]
    names = [name for _, name in STEPS]
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · load average {load:.1f} · scopes {scope}")
    print(f"| read | role | p95 / p50 ms | {' | '.join(names)} | other |  (mean ms per read, over {args.reads} reads)")
    print("|---|---|---|" + "---|" * (len(names) + 1))
    for label, _, read in _reads(users["executive"]):
        if only and not any(part in label for part in only):
            continue
        for role in wanted:
            user = roles[role]
            for _ in range(3):  # warm-up: plans, loaders, connections
                _forget_cached_rows()
                read(user)
            clock = StepClock()
            totals: list[float] = []
            with _patched(clock):
                for _ in range(args.reads):
                    _forget_cached_rows()
                    started = time.perf_counter()
                    read(user)
                    totals.append((time.perf_counter() - started) * 1000)
            per_read = {n: clock.totals[n] * 1000 / args.reads for n in names}
            other = sum(totals) / len(totals) - sum(per_read.values())
            cells = " | ".join(f"{per_read[n]:.2f}" for n in names)
            print(
                f"| {label} | {role} | {percentile(totals, 95):.1f} / {percentile(totals, 50):.1f} | {cells} | "
                f"{other:.2f} |",
                flush=True,
            )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
