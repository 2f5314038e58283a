"""The product scored on the real-file corpus (tests/data/real/), dev and held-out apart.

For each file it runs the product as a user would, through the contract CLI in subprocesses:

- `manage.py propose_mapping FILE --json`: each column against the hand-written truth
  (tests/data/real/truth/*.json). A column is right when every target proposed for it is one of the
  truth's targets (at least one when the truth has one; none when the truth is null). A *confident
  wrong* column has a target outside the truth at confidence >= the auto-accept threshold
  (settings.MAPPING_AUTO_CONFIDENCE), i.e. a mistake `ingest --auto` would load. A column kept as an
  attribute (`attributes.<key>`, schema v2) has no canonical column: it scores as a null proposal.
- `manage.py ingest FILE --auto --json` against a scratch database: the exit status; a crash is a
  traceback, or no JSON from a run that exited 0, or a failure without a reason; a refusal (non-zero
  exit with a one-line reason) is not a crash; a traceback from `propose_mapping` counts as one too.
  Then, from the canonical tables, revenue per year
  (kpi_order_revenue for sales files, canonical_invoices.amount for invoice files) against the truth,
  to the cent with half a cent of rounding allowed per line; and *silent row loss*: the file's finest
  grain (its largest entity count in the truth: lines for a line-level file, invoices for an invoice
  export printed per item) minus the most rows this source holds in any one canonical table, minus
  the rows the report counts as rejected. A refusal that wrote nothing loses nothing silently.

Files of one dataset (MANIFEST.toml `group`) go, in `order`, into one database; every other file into
a fresh one. The scratch databases (`<db>_corpus`, from the template `<db>_corpus_tmpl` migrated once
per run) are dropped at the end, so other tests never see this data.

Per-column details are printed for dev files only: the held-out part stays unseen by whoever tunes.

    .venv/bin/python -m bench.real_corpus                      # prints the tables
    .venv/bin/python -m bench.real_corpus --results bench/RESULTS-real-corpus.md
    .venv/bin/python -m bench.real_corpus --only zoho_invoices.csv,olist
    .venv/bin/python -m bench.real_corpus --split dev         # only the dev part (whoever tunes runs this)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "real"
TRUTH = CORPUS / "truth"
PYTHON = sys.executable
TIMEOUT_S = 900
CANONICAL_TABLES = [
    "canonical_customers",
    "canonical_employees",
    "canonical_suppliers",
    "canonical_products",
    "canonical_orders",
    "canonical_order_lines",
    "canonical_invoices",
    "canonical_payments",
    "canonical_expenses",
    "canonical_inventory",
]


@dataclass
class FileResult:
    name: str
    split: str
    group: str | None
    columns: int = 0
    right: int = 0
    targeted: int = 0
    targeted_right: int = 0
    missing: int = 0
    confident_wrong: int = 0
    wrong_detail: list[str] = field(default_factory=list)
    propose_error: str | None = None
    propose_crashed: bool = False  # a traceback, not a one-line refusal
    ingest_status: str = "-"  # ok / refused / crash
    ingest_reason: str = ""
    carries_revenue: bool = False
    revenue_exact: bool | None = None
    revenue_detail: str = ""
    rows: int = 0
    represented: int | None = None
    rejected: int = 0
    silent_loss: int | None = None
    seconds: float = 0.0


def _db_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(base: str):
    return psycopg.connect(_db_url(base, "postgres"), autocommit=True)


def _recreate(base: str, name: str, template: str | None = None) -> None:
    with _admin(base) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop(base: str, name: str) -> None:
    with _admin(base) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _manage(args: list[str], database_url: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=database_url)
    try:
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(exc.cmd, 124, exc.stdout or "", f"timeout after {TIMEOUT_S}s")


def _json_object(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip() and not ln.startswith("[config]")]
    return lines[-1].strip()[:160] if lines else ""


def _threshold(database_url: str) -> float:
    done = _manage(
        ["shell", "-c", "from django.conf import settings; print(settings.MAPPING_AUTO_CONFIDENCE)"], database_url
    )
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit(f"cannot read MAPPING_AUTO_CONFIDENCE: {done.stderr.strip()[-300:]}") from None


def score_columns(result: FileResult, truth: dict, proposal: dict, threshold: float) -> None:
    by_col: dict[str, list[dict]] = {}
    for p in proposal.get("proposals", []):
        by_col.setdefault(str(p.get("source_col", "")).strip(), []).append(p)
    # A blank header is renamed by whoever reads the file: match it to a proposed column the truth lacks.
    leftover = [c for c in by_col if c not in {k.strip() for k in truth["columns"]}]
    for column, expected in truth["columns"].items():
        acceptable = {t for t in (expected or []) if t}
        null_ok = expected is None or None in expected
        props = by_col.get(column.strip())
        if props is None and not column.strip() and leftover:
            props = by_col[leftover.pop(0)]
        result.columns += 1
        if acceptable:
            result.targeted += 1
        if not props:
            result.missing += 1
            result.wrong_detail.append(f"{column!r}: not in the proposal (truth {sorted(acceptable) or None})")
            continue
        # A column kept as an attribute (`attributes.<key>`) has no canonical column: as the truth's null.
        props = [p for p in props if not str(p.get("canonical_col") or "").startswith("attributes.")] or [{}]
        targets = {
            f"{p['canonical_table']}.{p['canonical_col']}"
            for p in props
            if p.get("canonical_table") and p.get("canonical_col")
        }
        right = targets <= acceptable and (bool(targets) or null_ok)
        if right:
            result.right += 1
            if acceptable:
                result.targeted_right += 1
        else:
            best = max((p.get("confidence") or 0 for p in props), default=0)
            result.wrong_detail.append(
                f"{column!r}: proposed {sorted(targets) or None} ({best:.2f}), truth {sorted(acceptable) or None}"
            )
        if any(
            p.get("canonical_table")
            and f"{p['canonical_table']}.{p['canonical_col']}" not in acceptable
            and (p.get("confidence") or 0) >= threshold
            for p in props
        ):
            result.confident_wrong += 1


def _latest_source(conn, name: str) -> int | None:
    row = conn.execute(
        "SELECT id FROM data_sources WHERE name = %s OR file_path LIKE %s ORDER BY id DESC LIMIT 1",
        (name, f"%{name}"),
    ).fetchone()
    return row[0] if row else None


def _represented_rows(conn, source_id: int) -> int:
    """The most rows this source holds in one canonical table: its finest grain as loaded."""
    counts = [
        conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE source_id = %s").format(sql.Identifier(t)), (source_id,)
        ).fetchone()[0]
        for t in CANONICAL_TABLES
    ]
    return max(counts)


def _product_revenue(conn, kind: str, source_id: int) -> dict[str, Decimal]:
    if kind == "orders":
        rows = conn.execute(
            """SELECT extract(year FROM r.order_date)::int, sum(r.revenue)
               FROM kpi_order_revenue r JOIN canonical_orders o ON o.id = r.order_id
               WHERE o.source_id = %(s)s
                  OR EXISTS (SELECT 1 FROM canonical_order_lines l WHERE l.order_id = o.id AND l.source_id = %(s)s)
               GROUP BY 1""",
            {"s": source_id},
        ).fetchall()
    else:
        rows = conn.execute(
            """SELECT extract(year FROM invoice_date)::int, sum(amount) FROM canonical_invoices
               WHERE source_id = %(s)s GROUP BY 1""",
            {"s": source_id},
        ).fetchall()
    return {str(y) if y is not None else "unknown": Decimal(v or 0) for y, v in rows}


def compare_revenue(truth: dict, product: dict[str, Decimal]) -> tuple[bool, str]:
    expected = {y: Decimal(v) for y, v in (truth["revenue_per_year"] or {}).items()}
    lines = truth.get("lines_per_year") or {}
    misses = []
    for year in sorted(set(expected) | set(product)):
        want, got = expected.get(year, Decimal(0)), product.get(year, Decimal(0))
        allowed = Decimal("0.005") * (lines.get(year, 0) + 1)
        if abs(want - got) > allowed:
            misses.append(f"{year}: {got:.2f} vs {want:.2f}")
    return not misses, "; ".join(misses)


def ingest(result: FileResult, truth: dict, database_url: str) -> None:
    done = _manage(["ingest", str(CORPUS / result.name), "--auto", "--json"], database_url)
    report = _json_object(done.stdout)
    if (
        "Traceback" in done.stderr
        or (done.returncode == 0 and report is None)
        or (done.returncode != 0 and not _last_line(done.stderr))
    ):
        result.ingest_status = "crash"
    elif done.returncode != 0:
        result.ingest_status = "refused"
    else:
        result.ingest_status = "ok"
    result.ingest_reason = _last_line(done.stderr) if done.returncode != 0 else ""
    tables = (report or {}).get("tables") or {}
    result.rejected = max((int(c.get("rejected") or 0) for c in tables.values()), default=0)

    with psycopg.connect(database_url, autocommit=True) as conn:
        source_id = (report or {}).get("source_id") or _latest_source(conn, result.name)
        represented = _represented_rows(conn, source_id) if source_id else 0
        result.represented = represented
        if result.ingest_status == "refused" and represented == 0:
            result.silent_loss = 0
        else:
            finest = max(truth["entities"].values(), default=0)
            result.silent_loss = max(0, finest - represented - result.rejected)
        if result.carries_revenue:
            product = _product_revenue(conn, truth["revenue_kind"], source_id) if source_id else {}
            result.revenue_exact, result.revenue_detail = compare_revenue(truth, product)


def run_dataset(names: list[str], truths: dict, base_url: str, scratch: str, template: str, threshold: float):
    _recreate(base_url, scratch, template)
    url = _db_url(base_url, scratch)
    results = []
    for name in names:
        truth = truths[name]
        result = FileResult(name=name, split=truth["split"], group=truth.get("group"), rows=truth["rows"])
        result.carries_revenue = bool(truth.get("revenue_per_year"))
        started = time.perf_counter()
        try:
            done = _manage(["propose_mapping", str(CORPUS / name), "--json"], url)
            proposal = _json_object(done.stdout)
            if proposal is None:
                result.propose_error = _last_line(done.stderr) or f"exit {done.returncode}, no JSON"
                result.propose_crashed = "Traceback (most recent call last)" in done.stderr
                proposal = {"proposals": []}
            score_columns(result, truth, proposal, threshold)
            ingest(result, truth, url)
        except Exception as exc:  # one file's failure is a row of the table, never the end of the run
            result.ingest_status = result.ingest_status if result.ingest_status != "-" else "crash"
            result.ingest_reason = f"bench: {type(exc).__name__}: {exc}"[:160]
        result.seconds = time.perf_counter() - started
        results.append(result)
        print(f"  {name}: {result.right}/{result.columns} columns, ingest {result.ingest_status}", file=sys.stderr)
    return results


def datasets(manifest: dict, only: set[str] | None, split: str = "all") -> list[list[str]]:
    groups: dict[str, list[tuple[int, str]]] = {}
    alone = []
    for name, entry in manifest.items():
        if only and name not in only and entry.get("group") not in only:
            continue
        if split != "all" and entry.get("split") != split:
            continue
        if entry.get("group"):
            groups.setdefault(entry["group"], []).append((entry.get("order", 0), name))
        else:
            alone.append([name])
    return [[n for _, n in sorted(g)] for g in groups.values()] + alone


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "-"


def render(results: list[FileResult], threshold: float, header: str) -> str:
    out = [header, ""]
    out.append(
        "| file | split | columns right | of targeted | conf. wrong | ingest | revenue/year exact "
        "| rows | silent loss | s |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(results, key=lambda r: (r.split, r.name)):
        revenue = "-" if not r.carries_revenue else ("yes" if r.revenue_exact else "no")
        # A held-out file's refusal reason is a detail of it: only its status is printed.
        shown_reason = r.split == "dev" and r.ingest_status != "ok"
        ingest_cell = f"{r.ingest_status}: {r.ingest_reason}" if shown_reason else r.ingest_status
        out.append(
            f"| {r.name} | {r.split} | {r.right}/{r.columns} | {r.targeted_right}/{r.targeted} | {r.confident_wrong} "
            f"| {ingest_cell.replace('|', '/')} | {revenue} | {r.rows} | "
            f"{'-' if r.silent_loss is None else r.silent_loss} | {r.seconds:.1f} |"
        )
    out += ["", f"Totals (a confident proposal is one at confidence >= {threshold}):", ""]
    out.append(
        "| split | files | columns right | of targeted columns | confident wrong | files with exact revenue/year "
        "| silent row loss (rows / files) | crashes | refused |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|")
    for split in ("dev", "heldout"):
        part = [r for r in results if r.split == split]
        if not part:
            continue
        cols, right = sum(r.columns for r in part), sum(r.right for r in part)
        tcols, tright = sum(r.targeted for r in part), sum(r.targeted_right for r in part)
        revenue_files = [r for r in part if r.carries_revenue]
        exact = sum(1 for r in revenue_files if r.revenue_exact)
        loss_rows = sum(r.silent_loss or 0 for r in part)
        loss_files = sum(1 for r in part if r.silent_loss)
        out.append(
            f"| {split} | {len(part)} | {right}/{cols} = {_pct(right, cols)} "
            f"| {tright}/{tcols} = {_pct(tright, tcols)} "
            f"| {sum(r.confident_wrong for r in part)} | {exact}/{len(revenue_files)} | {loss_rows} / {loss_files} "
            f"| {sum(1 for r in part if r.ingest_status == 'crash' or r.propose_crashed)} "
            f"| {sum(1 for r in part if r.ingest_status == 'refused')} |"
        )
    dev = [r for r in results if r.split == "dev" and (r.wrong_detail or r.revenue_detail or r.propose_error)]
    if dev:
        out += ["", "Dev files, what was wrong (held-out details are not printed):", ""]
        for r in sorted(dev, key=lambda r: r.name):
            out.append(f"- **{r.name}**")
            if r.propose_error:
                out.append(f"  - propose_mapping: {r.propose_error}")
            out += [f"  - {w}" for w in r.wrong_detail]
            if r.revenue_detail:
                out.append(f"  - revenue per year (product vs truth): {r.revenue_detail}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", help="also write the tables to this markdown file")
    parser.add_argument("--only", help="comma-separated file names or group names")
    parser.add_argument(
        "--split", choices=("dev", "heldout", "all"), default="all", help="run only this part of the corpus"
    )
    args = parser.parse_args(argv)

    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        raise SystemExit("DATABASE_URL must name a PostgreSQL server (the corpus uses <db>_corpus databases beside it)")
    base_db = urlsplit(base_url).path.lstrip("/") or "ledgerlight"
    scratch, template = f"{base_db}_corpus", f"{base_db}_corpus_tmpl"

    manifest = tomllib.loads((CORPUS / "MANIFEST.toml").read_text())["files"]
    # Only the part asked for is read: a dev run never opens a held-out file's truth.
    truths = {
        name: json.loads((TRUTH / f"{name}.json").read_text())
        for name, entry in manifest.items()
        if args.split in ("all", entry.get("split"))
    }
    only = set(args.only.split(",")) if args.only else None

    print(f"migrating the template database {template} …", file=sys.stderr)
    _recreate(base_url, template)
    migrated = _manage(["migrate", "--noinput"], _db_url(base_url, template))
    if migrated.returncode != 0:
        raise SystemExit(f"migrate failed: {migrated.stderr.strip()[-500:]}")
    threshold = _threshold(_db_url(base_url, template))

    results: list[FileResult] = []
    try:
        for names in datasets(manifest, only, args.split):
            results += run_dataset(names, truths, base_url, scratch, template, threshold)
    finally:
        _drop(base_url, scratch)
        _drop(base_url, template)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    )
    header = (
        f"# Real-file corpus: the product on tests/data/real/\n\n"
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on commit {commit.stdout.strip()}"
        f"{' (with uncommitted changes)' if dirty.stdout.strip() else ''}; "
        f"auto-accept threshold {threshold}; `.venv/bin/python -m bench.real_corpus` (or `make bench-real`)."
    )
    text = render(results, threshold, header)
    print(text)
    if args.results:
        Path(args.results).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
