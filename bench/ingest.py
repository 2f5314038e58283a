"""Ingest benchmark: the orders CSV through the full path (upload → save mapping → execute), then again.

`run_ingest_bench(csv_path, ...)` returns result rows for `bench/run.py` (which measures psql `\\copy`
of the same file as the reference); run alone it prints them:

    python -m bench.ingest --scale 1000000          # generates (or reuses) the seeded files
    python -m bench.ingest --csv path/to/orders.csv  # any file of the generator's orders layout
    python -m bench.ingest --scale 1000000 --attributes  # five more columns, kept as attributes
    python -m bench.ingest --scale 1000000 --variants --before-tree DIR --rounds 3  # interleaved, see below

`--variants` compares the first load of the 1M orders file across variants run in turn (each round in another
order), each run in a process of its own, each variant in a database of its own (`BENCH_DATABASE` + a suffix):
`before` (the code of an exported commit in `--before-tree`, e.g. main before the attributes merge), `now`
(this tree), `now-5-attributes` (the file with five attribute columns) and, with `--gin`, `now-5-attributes-gin`
(the same with the GIN index `jsonb_path_ops` over canonical_orders.attributes that the tables had until canonical
migration 0012, created at setup in a database of its own), with `--base-tree DIR`, `base` and `base-5-attributes`
(another exported commit of this code, e.g. the branch point, with and without the five attribute columns) and, with
`--side-table-probe`,
`probe-side-table-5-attributes` (the five attributes as typed columns of a side table instead of jsonb: this commit
with bench/attributes_side_table_probe.diff applied; first loads only). Medians per variant, ratios to `before` (of
the medians, and the median of each round's ratio) are printed with the load average.

Before the timed runs the employees and customers files (when given) are loaded, untimed, so the
orders' references resolve to real rows as they would in use. Every first-load run starts from an
empty canonical_orders; every re-ingest uploads the same file again and finds every row unchanged.
Peak RSS is sampled in this process while the timed runs execute (DuckDB runs in-process).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import threading
import time
from pathlib import Path

ORDER_FIELDS = [
    {"source_col": "Order ID", "canonical_table": "canonical_orders", "canonical_col": "external_id"},
    {"source_col": "Customer ID", "canonical_table": "canonical_orders", "canonical_col": "customer_id"},
    {"source_col": "Sales Rep ID", "canonical_table": "canonical_orders", "canonical_col": "sales_rep_id"},
    {"source_col": "Order Date", "canonical_table": "canonical_orders", "canonical_col": "order_date"},
    {"source_col": "Status", "canonical_table": "canonical_orders", "canonical_col": "status"},
    {"source_col": "Currency", "canonical_table": "canonical_orders", "canonical_col": "currency"},
    {
        "source_col": "Total",
        "canonical_table": "canonical_orders",
        "canonical_col": "amount",
        "transform": [{"op": "parse_number", "locale": "en"}],
    },
    {"source_col": "Ship Date", "canonical_table": "canonical_orders", "canonical_col": "shipped_date"},
]
EMPLOYEE_FIELDS = [
    {"source_col": "Employee ID", "canonical_table": "canonical_employees", "canonical_col": "external_id"},
    {
        "source_col": "First Name",
        "canonical_table": "canonical_employees",
        "canonical_col": "name",
        "transform": [{"op": "concat", "columns": ["Last Name"], "separator": " "}],
    },
    {"source_col": "Email", "canonical_table": "canonical_employees", "canonical_col": "email"},
    {"source_col": "Title", "canonical_table": "canonical_employees", "canonical_col": "title"},
    {"source_col": "Team", "canonical_table": "canonical_employees", "canonical_col": "team"},
    {"source_col": "Reports To", "canonical_table": "canonical_employees", "canonical_col": "manager_id"},
    {"source_col": "Hire Date", "canonical_table": "canonical_employees", "canonical_col": "hire_date"},
]
CUSTOMER_FIELDS = [
    {"source_col": "Customer ID", "canonical_table": "canonical_customers", "canonical_col": "external_id"},
    {"source_col": "Company Name", "canonical_table": "canonical_customers", "canonical_col": "name"},
    {"source_col": "Contact Email", "canonical_table": "canonical_customers", "canonical_col": "email"},
    {"source_col": "Segment", "canonical_table": "canonical_customers", "canonical_col": "segment"},
    {"source_col": "Country", "canonical_table": "canonical_customers", "canonical_col": "country"},
    {"source_col": "City", "canonical_table": "canonical_customers", "canonical_col": "city"},
    {"source_col": "Account Owner", "canonical_table": "canonical_customers", "canonical_col": "sales_rep_id"},
]


# Five columns beyond the orders layout, kept as attributes (`--attributes`): text, text, number, boolean, date.
ATTRIBUTE_FIELDS = [
    {"source_col": "Region", "canonical_table": "canonical_orders", "canonical_col": "attributes.region"},
    {"source_col": "Channel", "canonical_table": "canonical_orders", "canonical_col": "attributes.channel"},
    {
        "source_col": "Weight",
        "canonical_table": "canonical_orders",
        "canonical_col": "attributes.weight",
        "transform": [{"op": "parse_number", "locale": "en"}],
    },
    {
        "source_col": "Gift",
        "canonical_table": "canonical_orders",
        "canonical_col": "attributes.gift",
        "transform": [{"op": "parse_bool"}],
    },
    {
        "source_col": "Promised",
        "canonical_table": "canonical_orders",
        "canonical_col": "attributes.promised",
        "transform": [{"op": "parse_date", "format": "%Y-%m-%d"}],
    },
]


def orders_with_attributes(csv_path: Path) -> Path:
    """The orders file with five more columns (ATTRIBUTE_FIELDS), derived from each order's id: written once
    beside it as orders-attributes.csv (DuckDB), and reused while it is newer than the orders file."""
    import duckdb

    out = csv_path.with_name("orders-attributes.csv")
    if out.exists() and out.stat().st_mtime >= csv_path.stat().st_mtime:
        return out
    h = 'CAST(hash("Order ID") % 1000003 AS BIGINT)'
    conn = duckdb.connect()
    conn.execute(
        f"COPY (SELECT *, ['North', 'South', 'East', 'West'][{h} % 4 + 1] AS \"Region\", "
        f"['web', 'store', 'phone'][{h} % 3 + 1] AS \"Channel\", "
        f'CAST(({h} % 5000) / 100 AS DECIMAL(8, 2)) AS "Weight", '
        f"CASE WHEN {h} % 7 = 0 THEN 'yes' ELSE 'no' END AS \"Gift\", "
        f'strftime(CAST("Order Date" AS DATE) + CAST({h} % 10 AS INTEGER), \'%Y-%m-%d\') AS "Promised" '
        "FROM read_csv(?, all_varchar = true)) TO '" + str(out).replace("'", "''") + "' (HEADER)",
        [str(csv_path)],
    )
    conn.close()
    return out


class PeakRss:
    """Samples this process's resident memory every 20 ms while active; `peak_mb` is the highest seen."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRss:
        self.peak = self._process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak / (1024 * 1024)


def _ensure_django() -> None:
    from django.apps import apps

    if apps.ready:
        return
    import os

    from bench import database

    url = database.with_database(database.server_url(), os.environ.get("BENCH_DATABASE", database.DEFAULT_NAME))
    database.ensure_database(url)
    database.setup_django(url)


def _ingest(path: Path, fields: list[dict]) -> tuple[float, dict]:
    from mappings.services.ingest import ingest_file

    start = time.perf_counter()
    _source, job = ingest_file(path=path, user=None, fields=fields)
    seconds = time.perf_counter() - start
    if job.status != job.Status.SUCCEEDED:
        raise RuntimeError(f"ingest of {path.name} failed: {job.error}")
    return seconds, job.report


def _validate_foreign_keys() -> float:
    from canonical.services import canonical_foreign_keys_validate

    start = time.perf_counter()
    result = canonical_foreign_keys_validate()
    if result.failed:
        raise RuntimeError(f"foreign keys not valid after the load: {result.failed}")
    return time.perf_counter() - start


def _empty_orders() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # Lines, invoices and payments reference orders; the benchmark database is its own.
        cursor.execute("TRUNCATE canonical_orders CASCADE")


def run_ingest_bench(
    csv_path: Path | str, *, runs: int = 3, files: dict | None = None, quick: bool = False, attributes: bool = False
) -> list[dict]:
    """Time the orders CSV through upload + mapping save + execution (`runs` first loads into an empty
    canonical_orders, then `runs` re-ingests of the same file) and return the result rows. With `attributes`,
    the file with five more columns (`orders_with_attributes`) is loaded, those kept as attributes."""
    _ensure_django()
    csv_path = Path(csv_path)
    order_fields = ORDER_FIELDS
    if attributes:
        csv_path, order_fields = orders_with_attributes(csv_path), ORDER_FIELDS + ATTRIBUTE_FIELDS
    files = {k: Path(v) for k, v in (files or {}).items()}
    runs = 1 if quick else max(1, runs)
    if files.get("employees.csv"):
        _ingest(files["employees.csv"], EMPLOYEE_FIELDS)
    if files.get("customers.csv"):
        _ingest(files["customers.csv"], CUSTOMER_FIELDS)

    first: list[float] = []
    again: list[float] = []
    validations: list[float] = []
    first_report: dict = {}
    again_report: dict = {}
    with PeakRss() as rss:
        for _ in range(runs):
            _empty_orders()
            seconds, first_report = _ingest(csv_path, order_fields)
            first.append(seconds)
            # In use, a Celery task queued at the commit validates the foreign keys the bulk load re-added NOT
            # VALID; here, untimed, right after it (so the next run starts from valid keys), and reported.
            validations.append(_validate_foreign_keys())
        for _ in range(runs):
            seconds, again_report = _ingest(csv_path, order_fields)
            again.append(seconds)
    counts = first_report["tables"]["canonical_orders"]
    rows = counts["inserted"] + counts["updated"] + counts["unchanged"] + counts["rejected"]
    unchanged = again_report["tables"]["canonical_orders"]
    first_s, again_s = statistics.median(first), statistics.median(again)
    spread = f"runs {min(first):.2f}–{max(first):.2f} s" if len(first) > 1 else ""
    kept = " with five attribute columns" if attributes else ""
    return [
        {
            "topic": "ingest",
            "what": f"ours{kept}: upload + save + execute (DuckDB transforms + splits → COPY new rows + UPDATE "
            "changed)",
            "value": rows / first_s,
            "unit": "rows/s",
            "seconds": round(first_s, 2),
            "peak_rss_mb": round(rss.peak_mb),
            # Where the (last) first load's time went, from the job report: shown by `--with-copy`.
            "timings_ms": first_report.get("timings_ms", {}),
            "notes": f"{rows:,} rows, {counts['inserted']:,} inserted, {counts['rejected']} rejected; {spread}".strip(
                "; "
            )
            + f"; foreign keys validated after the commit (a Celery task, not timed): "
            f"{statistics.median(validations):.2f} s",
            "validate_after_commit_s": round(statistics.median(validations), 2),
        },
        {
            "topic": "reingest",
            "what": f"ours{kept}: re-ingest of the same file (upload + execute, every row unchanged)",
            "value": round(again_s, 2),
            "unit": "s",
            "reference": "first ingest",
            "reference_value": round(first_s, 2),
            "ratio": round(again_s / first_s, 2),
            "met": again_s <= first_s,
            "rows_per_s": round(rows / again_s),
            "timings_ms": again_report.get("timings_ms", {}),
            "notes": f"{unchanged['unchanged']:,} unchanged, {unchanged['inserted']} inserted, "
            f"{unchanged['updated']} updated",
        },
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1_000_000, help="orders to generate (seeded)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--csv", type=Path, help="an orders CSV of the generator's layout instead")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--attributes", action="store_true", help="the orders file with five more columns kept as attributes"
    )
    parser.add_argument("--variants", action="store_true", help="interleaved variants (see the module docstring)")
    parser.add_argument("--before-tree", type=Path, help="an exported commit to run as the `before` variant")
    parser.add_argument(
        "--base-tree", type=Path, help="an exported commit of this code to run as `base` and `base-5-attributes`"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --variants (each runs every variant once)")
    parser.add_argument("--gin", action="store_true", help="also the variant with the attributes GIN index")
    parser.add_argument("--only", help="comma-separated variants of --variants to run (default: all)")
    parser.add_argument(
        "--side-table-probe",
        action="store_true",
        help="also the five-attribute load with a typed side table instead of the jsonb (a probe, not the engine: "
        "this commit exported with bench/attributes_side_table_probe.diff applied)",
    )
    parser.add_argument(
        "--with-copy",
        action="store_true",
        help="time psql \\copy of the same file (bench/references.py) before and after each run and print "
        "each run's ratio (runs are then pairs: copy, ours, copy)",
    )
    args = parser.parse_args(argv)
    _ensure_django()
    from django.conf import settings

    files: dict = {}
    csv_path = args.csv
    if csv_path is None:
        from bench.generate import generate_cached

        out = Path(settings.BASE_DIR) / ".data" / "bench" / f"orders-{args.scale}-seed-{args.seed}"
        files = generate_cached(out, orders=args.scale, seed=args.seed)
        csv_path = files["orders.csv"]
    if args.variants:
        only = args.only.split(",") if args.only else None
        probe_tree = side_table_probe_tree() if args.side_table_probe else contextlib.nullcontext(None)
        with probe_tree as probe:
            run_variants(
                csv_path,
                files=files,
                before=args.before_tree,
                rounds=args.rounds,
                gin=args.gin,
                only=only,
                probe=probe,
                base_tree=args.base_tree,
            )
        return
    if not args.with_copy:
        for row in run_ingest_bench(csv_path, runs=args.runs, files=files, attributes=args.attributes):
            print(row)
        return
    _paired_with_copy(csv_path, files=files, runs=args.runs)


def _paired_with_copy(csv_path: Path, *, files: dict, runs: int) -> None:
    """`runs` pairs, each: psql \\copy, our first load + re-ingest, psql \\copy again. On a shared machine
    the load drifts within minutes, so each pair's ratio is taken against the mean of the two copies
    around it; the medians of the pairs are printed last, with the load average."""
    from django.db import connection

    from bench import references

    url = _database_url(connection.settings_dict)
    references.reference_schema_create(url)
    pairs = []
    for i in range(runs):
        before = references.ref_psql_copy(url, csv_path, runs=1)
        load_before = os.getloadavg()[0]
        first, again = run_ingest_bench(csv_path, runs=1, files=files if i == 0 else None)
        after = references.ref_psql_copy(url, csv_path, runs=1)
        copy_s = (before["seconds"] + after["seconds"]) / 2
        pair = {
            "copy_s": copy_s,
            "copy_rows_s": before["rows"] / copy_s,
            "ours_s": first["seconds"],
            "ours_rows_s": first["value"],
            "ratio": copy_s / first["seconds"],
            "reingest_s": again["value"],
            "validate_after_commit_s": first["validate_after_commit_s"],
            "peak_rss_mb": first["peak_rss_mb"],
            "load": (load_before + os.getloadavg()[0]) / 2,
        }
        pairs.append(pair)
        print(
            f"pair {i + 1}: \\copy {before['seconds']:.2f} / {after['seconds']:.2f} s; ours {first['seconds']:.2f} s "
            f"(ratio {pair['ratio']:.3f}); re-ingest {again['value']:.2f} s; peak RSS {first['peak_rss_mb']} MB; "
            f"load average {pair['load']:.1f}",
            flush=True,
        )
        for step, ms in first["timings_ms"].items():
            print(f"    first load  {step}: {ms / 1000:.2f} s")
        for step, ms in again["timings_ms"].items():
            print(f"    re-ingest   {step}: {ms / 1000:.2f} s")
    print("median of pairs:")
    for key in pairs[0]:
        print(f"  {key}: {statistics.median(p[key] for p in pairs):,.3f}")


# One first load in a process of its own, with the code of the tree it runs in (`before` has no ATTRIBUTE_FIELDS:
# it never loads attributes). Prints one line "RESULT {json}".
_ONE_LOAD = """
import json, os, resource, time
from pathlib import Path
from bench import ingest as b
b._ensure_django()
fields = b.ORDER_FIELDS + (b.ATTRIBUTE_FIELDS if os.environ["LL_BENCH_ATTRIBUTES"] == "1" else [])
b._empty_orders()
from django.db import connection
def backends():  # CPU seconds of this database's server processes (PostgreSQL runs on this machine)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [r[0] for r in cursor.fetchall()]
    cpu = {}
    for pid in pids:
        try:
            fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[pid] = (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")
    return cpu
def own():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
server_before, own_before = backends(), own()
load = os.getloadavg()[0]
seconds, report = b._ingest(Path(os.environ["LL_BENCH_CSV"]), fields)
server_after, own_after = backends(), own()
valid = b._validate_foreign_keys()
print("RESULT " + json.dumps({
    "seconds": seconds, "timings_ms": report.get("timings_ms", {}), "validate_s": valid,
    "load": (load + os.getloadavg()[0]) / 2, "counts": report["tables"]["canonical_orders"],
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "cpu_s": own_after - own_before + sum(v - server_before.get(k, 0) for k, v in server_after.items()),
}))
"""
_SETUP = """
import os
from pathlib import Path
from bench import ingest as b
b._ensure_django()
b._ingest(Path(os.environ["LL_BENCH_EMPLOYEES"]), b.EMPLOYEE_FIELDS)
b._ingest(Path(os.environ["LL_BENCH_CUSTOMERS"]), b.CUSTOMER_FIELDS)
if os.environ.get("LL_BENCH_GIN") == "1":
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS order_attrs_gin ON canonical_orders USING gin (attributes jsonb_path_ops)"
        )
"""


def _child(tree: Path, code: str, env: dict) -> dict | None:
    import json
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ll-bench-media-") as media:
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tree,
            env={**os.environ, "MEDIA_ROOT": media, **env},
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{tree}: {done.stderr.strip()[-2000:]}")
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    return None


@contextlib.contextmanager
def side_table_probe_tree():
    """This commit exported to a temporary directory with bench/attributes_side_table_probe.diff applied: the direct
    load COPYs the attributes' typed values into a side table (row key + a column per attribute, its unique index
    built with the others) instead of their JSON into `attributes`. Only the first load into an empty table is
    probed: no reader or other writer knows the side table."""
    import subprocess
    import tempfile

    here = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="ll-bench-probe-") as tree:
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=here, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        patch = here / "bench" / "attributes_side_table_probe.diff"
        subprocess.run(["git", "apply", str(patch)], cwd=tree, check=True)
        (Path(tree) / ".venv").symlink_to(here / ".venv")
        yield Path(tree)


def run_variants(
    csv_path: Path,
    *,
    files: dict,
    before: Path | None,
    rounds: int,
    gin: bool,
    only: list[str] | None = None,
    probe: Path | None = None,
    base_tree: Path | None = None,
) -> list[dict]:
    """The interleaved comparison of the module docstring; prints each run and a table of medians, returns the runs."""
    here = Path(__file__).resolve().parents[1]
    base = os.environ.get("BENCH_DATABASE", "ll_bench_run")
    attributes_csv = orders_with_attributes(Path(csv_path))
    variants = {}  # name: (tree, database suffix, file, attributes, create the GIN at setup)
    if before is not None:
        variants["before"] = (before, "_before", csv_path, "0", "0")
    if base_tree is not None:
        variants["base"] = (base_tree, "_base", csv_path, "0", "0")
        variants["base-5-attributes"] = (base_tree, "_base", attributes_csv, "1", "0")
    variants["now"] = (here, "_now", csv_path, "0", "0")
    variants["now-5-attributes"] = (here, "_now", attributes_csv, "1", "0")
    if gin:
        variants["now-5-attributes-gin"] = (here, "_gin", attributes_csv, "1", "1")
    if probe is not None:
        variants["probe-side-table-5-attributes"] = (probe, "_probe", attributes_csv, "1", "0")
    if only:
        variants = {name: v for name, v in variants.items() if name in only}
    ready = set()
    for name, (tree, suffix, _csv, _attrs, with_gin) in variants.items():
        if (tree, suffix) in ready:
            continue
        env = {"BENCH_DATABASE": base + suffix, "LL_BENCH_GIN": with_gin}
        env |= {"LL_BENCH_EMPLOYEES": str(files["employees.csv"]), "LL_BENCH_CUSTOMERS": str(files["customers.csv"])}
        _child(tree, _SETUP, env)
        ready.add((tree, suffix))
        print(f"set up {base + suffix} for {name}", flush=True)
    runs: list[dict] = []
    names = list(variants)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            tree, suffix, csv, attrs, _gin = variants[name]
            env = {"BENCH_DATABASE": base + suffix, "LL_BENCH_CSV": str(csv), "LL_BENCH_ATTRIBUTES": attrs}
            result = _child(tree, _ONE_LOAD, env) or {}
            result |= {"variant": name, "round": r + 1}
            runs.append(result)
            print(
                f"round {r + 1} {name}: {result['seconds']:.2f} s, CPU {result['cpu_s']:.2f} s (load "
                f"{result['load']:.1f}, peak RSS {result['peak_rss_mb']:.0f} MB, {result['counts']})",
                flush=True,
            )
            for step, ms in result["timings_ms"].items():
                print(f"    {step}: {ms / 1000:.2f} s", flush=True)
    reference = "before" if "before" in variants else "now"
    medians = {n: statistics.median(x["seconds"] for x in runs if x["variant"] == n) for n in names}
    # Per-round ratio: each run over the reference's run of its round, then the median (less exposed to the
    # machine's load drifting between rounds than the ratio of medians).
    of_round = {(x["round"], x["variant"]): x["seconds"] for x in runs}
    # CPU: the loading process's (DuckDB, the encoder) and the database's server processes' CPU seconds during the
    # load; a shared machine's load stretches the wall time far more than the work.
    cpu = {n: statistics.median(x["cpu_s"] for x in runs if x["variant"] == n) for n in names}
    print(
        f"\n| variant | first load, median of {rounds} | runs | vs {reference} (medians) | per-round ratio, median "
        f"| CPU s, median | CPU vs {reference} |\n|---|---|---|---|---|---|---|"
    )
    for n in names:
        seconds = sorted(x["seconds"] for x in runs if x["variant"] == n)
        spread = ", ".join(f"{s:.2f}" for s in seconds)
        ratios = [of_round[(r + 1, n)] / of_round[(r + 1, reference)] for r in range(rounds)]
        print(
            f"| {n} | {medians[n]:.2f} s | {spread} | {medians[n] / medians[reference]:.3f} | "
            f"{statistics.median(ratios):.3f} | {cpu[n]:.2f} | {cpu[n] / cpu[reference]:.3f} |"
        )
    loads = [x["load"] for x in runs]
    print(f"\nload average during the runs: {min(loads):.1f}–{max(loads):.1f} (median {statistics.median(loads):.1f})")
    return runs


def _database_url(settings_dict: dict) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        dbname=settings_dict["NAME"],
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=str(settings_dict.get("PORT") or "") or None,
    )


if __name__ == "__main__":
    main()
