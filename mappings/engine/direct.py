"""Direct load: a table plan's rows go from DuckDB straight into the canonical table.

The row work happens in DuckDB, not in PostgreSQL:

1. DuckDB reads and transforms the file once into a table of its own (`ll_rows`, in file order, so a
   row's number is its rowid + 2; past the memory limit DuckDB spills to a private directory).
2. Rows with problems become rejected rows, as in the staging path.
3. References: the distinct identifiers of each reference column are sent to PostgreSQL, resolved there
   exactly like the staging path does (external id, then e-mail/name, then placeholders or misses) and
   the map (identifier → id) comes back as an Arrow table that DuckDB joins. With "reject", rows naming
   a missing referent are rejected in DuckDB.
4. The rows to load are the good rows joined with the maps. Into an empty table they stay a relation,
   computed where each step reads them (storing them took longer than the joins); they are stored when
   rows will be compared with stored ones, and when the file repeats identifiers: the last occurrence
   wins; repeated derived identifiers are numbered.
5. After the canonical table is locked (SHARE ROW EXCLUSIVE: no other writer until commit), the
   identifiers it already has are fetched — the table's (when it is no bigger than the file) or the
   file's found in it — and DuckDB splits the rows into new ones and ones that may have changed.
6. New rows are COPYed into the table (in PostgreSQL's binary format: pg_binary.py); only the others go
   through a staging table and are UPDATEd where a value differs (IS DISTINCT FROM), so re-running the
   same file writes nothing.

Counts and the keys the KPI refresh needs come from DuckDB (new rows) and from the UPDATE (changed
rows). Plans with self-references (an employee's manager in the same file) take the staging path.
DuckDB stays locked down (duck.py): it reads the uploaded file and the Arrow tables handed to it.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import models
from psycopg import sql

from canonical.schema import TABLES_BY_NAME
from mappings.engine.collapse import Collapse, collapse_count
from mappings.engine.line_price import (
    priced_expressions,
    product_prices_fetch,
    reference_mode,
    unpriced_reason,
    unpriced_rows_sql,
)
from mappings.engine.plan import TablePlan
from mappings.engine.sql_files import sql_file
from mappings.engine.staging import (
    CSV_OPTIONS,
    MAX_STORED_REJECTS,
    Reject,
    StageResult,
    collect_rejects,
    copy_from_duckdb,
    copy_rows_from_duckdb,
    missing_reason,
)
from mappings.engine.transforms import duckdb_install_macros
from mappings.engine.upsert import (
    TableResult,
    bulk_load_begin_for,
    bulk_load_end,
    bulk_load_unique_drop,
    not_null_default,
    old_months,
    other_uploads_changed,
    other_uploads_snapshot,
    overwrites_from_other_sources,
    reference_map_complete,
    touched_keys,
    update_changed,
)
from mappings.intake.duck import duckdb_connect_locked, quote_ident

BULK_END_LAP = "indexes rebuilt, foreign keys re-added"


@dataclass
class DirectLoad:
    result: TableResult
    rows: int  # rows the table receives from the file: one per identifier
    rejected: int
    rejects: list[Reject] = field(default_factory=list)
    placeholders: dict[str, int] = field(default_factory=dict)
    months_before: list[str] = field(default_factory=list)
    bulk: bool = False
    timings: dict[str, int] = field(default_factory=dict)
    collapse: Collapse | None = None  # rows of the file that share a key (collapse.py)
    other_uploads: dict = field(default_factory=dict)  # {upload id: its rows this load changed}
    owned_elsewhere: int = 0  # rows of the file left alone: a file at their table's grain described them
    # Rows another upload described at this grain whose values this load replaced (upsert.overwrites_from_other_sources)
    overwritten: dict = field(default_factory=dict)


# DuckDB's memory for a direct load; past it, its tables spill to a private temporary directory. Big files
# get less: spilling costs them some speed and bounds the worker's peak memory.
MEMORY_LIMIT = "256MB"
MEMORY_LIMIT_BIG_FILES = "100MB"
BIG_FILE_BYTES = 256 << 20


def direct_load(cursor, *, plan: TablePlan, source, mode: str, stage, on_collapse=None) -> DirectLoad:
    """Load `plan`'s rows of `source`'s file into its table on `cursor`'s transaction (see the module
    docstring). `mode` is the mapping's on_missing_reference; `stage(text)` reports progress;
    `on_collapse(collapse)` is called before anything is written when the file repeats a key (it may raise)."""
    big = Path(source.file_path).stat().st_size > BIG_FILE_BYTES
    with _spill_directory() as spill:
        limit = MEMORY_LIMIT_BIG_FILES if big else MEMORY_LIMIT
        conn = duckdb_connect_locked(source.file_path, memory_limit=limit, spill_dir=spill)
        try:
            return _Load(cursor, conn, plan, source, mode, stage, on_collapse).run()
        finally:
            conn.close()


SPILL_PARENT = Path(tempfile.gettempdir()) / "ll-duckdb"


def _spill_directory() -> tempfile.TemporaryDirectory:
    """A private directory for DuckDB's temporary files, named after this process. A worker killed mid-load
    cannot remove its own: the next load removes those of processes that no longer exist."""
    SPILL_PARENT.mkdir(mode=0o700, exist_ok=True)
    for old in SPILL_PARENT.iterdir():
        pid = old.name.split("-", 1)[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"{os.getpid()}-", dir=SPILL_PARENT)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class _Load:
    def __init__(self, cursor, conn, plan: TablePlan, source, mode: str, stage, on_collapse=None):
        self.cursor, self.conn, self.plan, self.source, self.mode, self.stage = cursor, conn, plan, source, mode, stage
        self.on_collapse = on_collapse
        self.collapse: Collapse | None = None
        self.timings: dict[str, int] = {}
        self.clock = time.monotonic()

    def _lap(self, name: str) -> None:
        now = time.monotonic()
        self.timings[f"{self.plan.name}: {name}"] = int((now - self.clock) * 1000)
        self.clock = now

    def run(self) -> DirectLoad:
        plan, conn = self.plan, self.conn
        self.stage(f"reading {plan.name}")
        duckdb_install_macros(conn)
        query, params = plan.duckdb_query(
            file_path=self.source.file_path, dialect=self.source.dialect, attribute_values=True, date_counts=True
        )
        # Stored in file order (insertion order is preserved): a row's number is its rowid + 2 (header = 1).
        conn.execute(f"CREATE TABLE ll_rows AS {query}", params)
        counted = [f"__d{k}" for k in range(len(plan.date_counted))]
        if counted:
            # The "auto" date columns' read and values, which no whole-file pass counted (dates.py).
            sums = ", ".join(f"count_if({c}), count({c})" for c in counted)
            row = _one(conn, f"SELECT {sums} FROM ll_rows")
            plan.date_counts_record([(row[2 * k], row[2 * k + 1]) for k in range(len(counted))])
        staged = self._validation_rejects()
        left_out = counted + [f"__a{k}" for k in range(len(plan.attributes))]
        columns = f"* EXCLUDE ({', '.join(left_out)})" if left_out else "*"
        if plan.attributes:
            # The attributes' JSON is made where it is read, mostly by the COPY of new rows: there DuckDB works
            # beside PostgreSQL, which parses the JSON (bench/RESULTS-attributes.md).
            columns += f", {plan.attributes_json()} AS attributes"
        conn.execute(
            f"CREATE VIEW ll_good AS SELECT rowid + 2 AS source_row, {columns} FROM ll_rows WHERE len(__errors) = 0"
        )
        self._lap("read + transform (DuckDB)")

        self.stage(f"writing {plan.name}")
        load = DirectLoad(result=TableResult(), rows=0, rejected=staged.rejected, rejects=staged.rejects)
        maps = self._references(load)
        self._lap("references")
        rows, distinct = self._final(maps)
        load.rows = distinct
        load.collapse = self.collapse
        if self.collapse is not None and self.on_collapse is not None:
            self.on_collapse(self.collapse)
        table = sql.Identifier(plan.name)
        # From here until commit no other execution writes this table: the identifiers fetched next stay true.
        self.cursor.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(table))
        table_rows, existing = self._existing(distinct)
        self._lap("split new / existing")

        # `table_rows` is exact only up to the file's size; past it the decision counts on its own.
        exact = table_rows if table_rows <= distinct else None
        load.bulk = bulk_load_begin_for(self.cursor, plan=plan, new_rows=distinct - existing, table_rows=exact)
        # New rows only: their identifiers' unique index is built once after the COPY (bench/RESULTS-attributes.md).
        unique = bulk_load_unique_drop(self.cursor, plan=plan) if load.bulk and not existing else []
        updated = TableResult()
        if existing and not plan.at_grain:
            query = f"SELECT count(*) FROM {self.final} f WHERE {_EXISTS_AT_GRAIN}"
            (load.owned_elsewhere,) = _one(conn, query, self.final_params)
        if existing:
            updated, load.months_before, load.other_uploads, load.overwritten = self._update_existing(existing)
            self._lap("update changed rows")
        inserted = distinct - existing
        if inserted:
            # Near file order, so the identifier index is written page after page (hash order is much slower).
            # Beside stored rows, sorted (the anti-join needs it); into an empty table, as the relation gives
            # them: a few long runs of file order (each of DuckDB's threads emits its share in order).
            query = f"SELECT * FROM {self.final} f WHERE NOT {_EXISTS} ORDER BY source_row" if existing else self.final
            copy_rows_from_duckdb(self.cursor, plan.name, self.columns, conn, query, self.final_params)
            self._lap("copy new rows")
        load.result = TableResult(inserted=inserted, updated=updated.updated, touched=updated.touched)
        if load.bulk:
            self.stage(f"indexing {plan.name}")
            # DuckDB lists the new rows' months and keys while PostgreSQL builds the indexes (both release the GIL).
            with ThreadPoolExecutor(max_workers=1) as pool:
                keys = pool.submit(self._touched_by_new_rows, load.result.touched) if inserted else None
                bulk_load_end(self.cursor, plan=plan, unique=unique)
                if keys is not None:
                    keys.result()
            self._lap(BULK_END_LAP)
        elif inserted:
            self._touched_by_new_rows(load.result.touched)
        load.timings = self.timings
        return load

    def _validation_rejects(self) -> StageResult:
        result = StageResult()
        (result.rejected,) = _one(self.conn, "SELECT count(*) FROM ll_rows WHERE len(__errors) > 0")
        if result.rejected:
            bad = self.conn.sql(
                "SELECT rowid + 2 AS source_row, __errors FROM ll_rows WHERE len(__errors) > 0 "
                f"ORDER BY rowid LIMIT {MAX_STORED_REJECTS}"
            ).to_arrow_table()
            collect_rejects(result, self.plan.name, bad.column("source_row"), bad.column("__errors"))
        return result

    def _references(self, load: DirectLoad) -> list[str]:
        """Resolve each reference column; returns the DuckDB name of its map (ref → id)."""
        conn, cursor, plan = self.conn, self.cursor, self.plan
        names = []
        # Rows left out for a missing referent (mode "reject"), or a product that cannot price the line.
        self.missing = self.mode == "reject" or plan.price_from_product is not None
        if self.missing:
            conn.execute("CREATE TABLE ll_missing (source_row BIGINT, value VARCHAR, k INTEGER)")
        for k, col in enumerate(plan.references):
            mode = reference_mode(plan, col.name, self.mode)
            column = quote_ident(col.name)
            refs = conn.sql(f"SELECT DISTINCT {column} AS ref FROM ll_good WHERE {column} IS NOT NULL").to_arrow_table()
            referent_table = TABLES_BY_NAME[col.references]
            map_name = sql.Identifier(f"map_{plan.name}_{col.name}")
            cursor.execute(sql_file("reference_map.sql", map=map_name))
            _copy_arrow(cursor, sql.SQL("COPY {} (ref) FROM STDIN (FORMAT csv)").format(map_name), refs)
            cursor.execute(sql_file("reference_map_resolve.sql", map=map_name, referent=sql.Identifier(col.references)))
            created = reference_map_complete(
                cursor, referent_table=referent_table, map_name=map_name, mode=mode, source_id=self.source.pk
            )
            if created:
                load.placeholders[col.references] = load.placeholders.get(col.references, 0) + created
            names.append(f"ll_map_{k}")
            _fetch_into_duckdb(
                cursor,
                sql.SQL("SELECT ref, id FROM {} WHERE id IS NOT NULL").format(map_name),
                conn,
                names[-1],
                [("ref", "VARCHAR"), ("id", "BIGINT")],
            )
            if mode == "reject" and mode != self.mode:  # the product that prices the line (line_price.py)
                product_prices_fetch(cursor, conn, map_name=map_name, fetch=_fetch_into_duckdb)
                conn.execute(unpriced_rows_sql(names[-1]))
            elif mode == "reject":
                # A row is reported for the first of its references that is missing.
                conn.execute(
                    f"INSERT INTO ll_missing SELECT g.source_row, g.{column}, {k} FROM ll_good g "
                    f"WHERE g.{column} IS NOT NULL "
                    f"AND NOT EXISTS (SELECT 1 FROM {names[-1]} m WHERE m.ref = g.{column}) "
                    "AND NOT EXISTS (SELECT 1 FROM ll_missing x WHERE x.source_row = g.source_row)"
                )
        if plan.price_from_product is not None and "product_id" not in {c.name for c in plan.references}:
            raise ValueError("a product_price step needs canonical_order_lines.product_id")  # mapping_validate
        if self.missing:
            (missing,) = _one(conn, "SELECT count(*) FROM ll_missing")
            load.rejected += missing
            room = max(MAX_STORED_REJECTS - len(load.rejects), 0)
            refs = plan.references
            for row, value, k in conn.execute(f"SELECT * FROM ll_missing ORDER BY source_row LIMIT {room}").fetchall():
                col = refs[k] if k >= 0 else plan.column("product_id")
                reason = missing_reason(col.references, value) if k >= 0 else unpriced_reason(k, value)
                load.rejects.append(Reject(plan.name, row, col.source_col or col.name, value or "", reason))
        return names

    def _final(self, maps: list[str]) -> tuple[int, int]:
        """`self.final`: a relation (SQL with `self.final_params`) of one row per identifier, in the table's own
        columns (`self.columns`). It is the good rows joined with the reference maps, computed where it is
        used (into an empty table, building a table of it cost more than the joins); it is stored as table
        `ll_final` when the file repeats identifiers (the last occurrence wins, or id-less repeats are
        numbered) and when the table has rows already (`_existing`)."""
        conn, plan = self.conn, self.plan
        ok = "ll_good"
        if self.missing:
            ok = "(SELECT * FROM ll_good g WHERE NOT EXISTS "
            ok += "(SELECT 1 FROM ll_missing x WHERE x.source_row = g.source_row))"
        rows, distinct = _one(conn, f"SELECT count(*), count(DISTINCT external_id) FROM {ok}")
        if distinct < rows and not plan.derived_external_id:
            self.collapse = collapse_count(plan, ok, lambda query: conn.execute(query).fetchall())
        params: dict = {"source_id": self.source.pk}
        value_cols = [c for c in plan.columns if c.name != "external_id"]
        names = ["external_id", "source_id", "source_row", "is_placeholder"]
        exprs = ["g.external_id", "CAST($source_id AS BIGINT)", "g.source_row", "false"]
        for flag, value in plan.flags.items():
            names.append(flag)
            exprs.append(f"CAST(${flag} AS BOOLEAN)")
            params[flag] = value
        joins, refs = [], {c.name: k for k, c in enumerate(plan.references)}
        priced: dict[str, str] = {}
        if plan.price_from_product is not None:
            join, priced = priced_expressions(plan)
            joins.append(join)
        for col in value_cols:
            ident = quote_ident(col.name)
            names.append(col.name)
            if col.name in priced:
                exprs.append(priced[col.name])
                continue
            if col.name in refs:
                alias = f"m{refs[col.name]}"
                joins.append(f"LEFT JOIN {maps[refs[col.name]]} {alias} ON {alias}.ref = g.{ident}")
                exprs.append(f"{alias}.id")
                continue
            default = not_null_default(plan.model, col.name)
            if default is models.NOT_PROVIDED:
                exprs.append(f"g.{ident}")
            else:
                params[f"d{len(params)}"] = default
                exprs.append(f"coalesce(g.{ident}, ${f'd{len(params) - 1}'})")
        if plan.attributes:
            names.append("attributes")
            exprs.append("g.attributes")
        tail, repeats = "", distinct < rows
        if distinct < rows and plan.derived_external_id:
            # Identical id-less rows (two equal expense lines) are distinct rows: number the repeats.
            number = "row_number() OVER (PARTITION BY g.external_id ORDER BY g.source_row)"
            exprs[0] = f"g.external_id || CASE WHEN {number} > 1 THEN ':' || CAST({number} AS VARCHAR) ELSE '' END"
            distinct = rows
        elif distinct < rows:
            # The file repeats an identifier (a denormalized export lists a customer once per order): the
            # last occurrence wins.
            tail = " QUALIFY row_number() OVER (PARTITION BY g.external_id ORDER BY g.source_row DESC) = 1"
        select = ", ".join(f"{e} AS {quote_ident(n)}" for e, n in zip(exprs, names, strict=True))
        final = f"SELECT {select} FROM {ok} g {' '.join(joins)}"
        self.final, self.final_params, self.stored = f"({final})", params, False
        if repeats:
            self._store_final(tail)
        self.columns = names
        self.types = [_pg_type(plan, n) for n in names]
        return rows, distinct

    def _store_final(self, tail: str = "") -> None:
        """Store the rows to load as table `ll_final` (in file order) and read them from it from now on."""
        query = f"CREATE TABLE ll_final AS SELECT * FROM {self.final} g{tail} ORDER BY g.source_row"
        self.conn.execute(query, self.final_params)
        # Rejected rows were collected already: only ll_final is needed from here (DuckDB's memory is bounded).
        self.conn.execute("DROP VIEW ll_good")
        self.conn.execute("DROP TABLE ll_rows")
        self.final, self.final_params, self.stored = "(SELECT * FROM ll_final)", {}, True

    def _existing(self, distinct: int) -> tuple[int, int]:
        """(rows in the table, counted up to the file's; identifiers of the file it has already), with DuckDB
        table `ll_current`: the stored values of those rows (external_id, is_placeholder, compared columns)."""
        cursor, table = self.cursor, sql.Identifier(self.plan.name)
        cursor.execute(sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT %s) x").format(table), [distinct + 1])
        (table_rows,) = cursor.fetchone()
        if table_rows and not self.stored:
            # Rows will be compared with stored ones: joins of joins with the stored rows run out of DuckDB's
            # memory on big files, where a stored table spills.
            self._store_final()
        relation = self.conn.sql(self.final, params=self.final_params)
        types = {name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True)}
        self.compared = [
            n for n in self.columns if n not in ("external_id", "source_id", "source_row", "is_placeholder")
        ]
        names = ["external_id", "is_placeholder", *self.compared]
        outputs = sql.SQL(", ").join(
            # A timestamp as the naive value DuckDB holds (written in the session's time zone).
            sql.SQL("t.{} AT TIME ZONE current_setting('TimeZone')").format(sql.Identifier(n))
            if types[n].startswith("TIMESTAMP")
            else sql.SQL("t.{}").format(sql.Identifier(n))
            for n in names
        )
        if table_rows == 0:
            query = None
        elif table_rows <= distinct:  # the table is no bigger than the file: fetch all of it
            query = sql.SQL("SELECT {} FROM {} t").format(outputs, table)
        else:  # send the file's identifiers and fetch the rows the table has of them
            ids = sql.Identifier(f"ids_{self.plan.name}")
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(ids))
            cursor.execute(sql.SQL("CREATE TEMP TABLE {} (external_id text) ON COMMIT DROP").format(ids))
            copy_from_duckdb(
                cursor,
                sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(ids),
                self.conn,
                f"SELECT external_id FROM {self.final} f",
                self.final_params,
            )
            cursor.execute(sql.SQL("ANALYZE {}").format(ids))
            query = sql.SQL("SELECT {} FROM {} i JOIN {} t ON t.external_id = i.external_id").format(
                outputs, ids, table
            )
        _fetch_into_duckdb(cursor, query, self.conn, "ll_current", [(n, types[n]) for n in names])
        (existing,) = _one(self.conn, f"SELECT count(*) FROM {self.final} f WHERE {_EXISTS}", self.final_params)
        return table_rows, existing

    def _update_existing(self, existing: int) -> tuple[TableResult, list[str], dict, dict]:
        """Stage the existing rows whose values DuckDB finds different from the stored ones (or cannot tell)
        and UPDATE them; PostgreSQL's IS DISTINCT FROM has the last word.

        The file's rows are joined with the stored ones in buckets of identifiers (by hash) of at most
        COMPARE_BUCKET_ROWS: DuckDB cannot join two tables of many millions of rows within the memory limit for
        big files ("failed to pin block"), where buckets of a few million can."""
        cursor, plan, conn = self.cursor, self.plan, self.conn
        # The attributes compare as text (plan.attribute_json writes PostgreSQL's own): a row that also holds
        # other uploads' keys differs here, and the UPDATE's merge and IS DISTINCT FROM find it unchanged.
        same = " AND ".join(f"f.{quote_ident(n)} IS NOT DISTINCT FROM c.{quote_ident(n)}" for n in self.compared)
        differs = f"(c.is_placeholder OR c.__uncertain OR NOT ({same or 'true'}))"
        if not plan.at_grain:  # a file of another grain leaves rows described at their grain alone (upsert.ownership)
            differs = f"(c.at_grain IS NOT TRUE AND {differs})"
        conn.execute(f"CREATE TABLE ll_changed AS SELECT * FROM {self.final} f LIMIT 0", self.final_params)
        buckets = max(1, -(-existing // COMPARE_BUCKET_ROWS))
        for bucket in range(buckets):
            within = (
                f"hash(f.external_id) % {buckets} = {bucket} AND hash(c.external_id) % {buckets} = {bucket} AND "
                if buckets > 1
                else ""
            )
            conn.execute(
                f"INSERT INTO ll_changed SELECT f.* FROM {self.final} f JOIN ll_current c "
                f"ON c.external_id = f.external_id WHERE {within}{differs}",
                self.final_params,
            )
        changed = "SELECT * FROM ll_changed"
        (count,) = _one(conn, "SELECT count(*) FROM ll_changed")
        if not count:
            return TableResult(), [], {}, {}
        staging = sql.Identifier(f"stg_{plan.name}")
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(staging))
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t))
            for n, t in zip(self.columns, self.types, strict=True)
        )
        cursor.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(staging, columns))
        copy_sql = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(staging)
        copy_from_duckdb(cursor, copy_sql, conn, changed)
        cursor.execute(sql.SQL("ANALYZE {}").format(staging))
        months = old_months(cursor, plan=plan, staging=staging)
        others = other_uploads_snapshot(cursor, plan=plan, staging=staging, source_id=self.source.pk)
        overwritten = overwrites_from_other_sources(cursor, plan=plan, incoming=staging, source_id=self.source.pk)
        result = update_changed(cursor, plan=plan, staging=staging, columns=self.columns)
        changed = other_uploads_changed(cursor, plan=plan, snapshot=others, source_id=self.source.pk)
        return result, months, changed, overwritten

    def _touched_by_new_rows(self, touched: dict) -> None:
        """Add the months, referenced ids and order ids of the new rows to `touched` (as update_changed's)."""
        keys, _ = touched_keys(self.plan)
        aggregates = []
        for key in keys:
            if key == "months":
                column = f"CAST(date_trunc('month', {quote_ident(self.plan.date_column)}) AS DATE)"
            else:
                column = quote_ident("order_id" if key == "order_ids" else key.split(":", 1)[1])
            aggregates.append(f"list(DISTINCT {column}) FILTER (WHERE {column} IS NOT NULL)")
        if not aggregates:
            return
        query = f"SELECT {', '.join(aggregates)} FROM {self.final} f WHERE NOT {_EXISTS}"
        row = _one(self.conn, query, self.final_params)
        for key, values in zip(keys, row, strict=True):
            values = values or []
            if key == "months":
                values = [month.strftime("%Y-%m-01") for month in values]
            # No set union when the update touched none: a big file's keys can be millions.
            touched[key] = sorted(set(touched[key]) | set(values)) if touched.get(key) else sorted(values)


COMPARE_BUCKET_ROWS = 2_000_000
# Over the rows to load, aliased f.
_EXISTS = "EXISTS (SELECT 1 FROM ll_current e WHERE e.external_id = f.external_id)"
_EXISTS_AT_GRAIN = "EXISTS (SELECT 1 FROM ll_current e WHERE e.external_id = f.external_id AND e.at_grain)"
_PG_TYPES = {
    "external_id": "text",
    "source_id": "bigint",
    "source_row": "bigint",
    "is_placeholder": "boolean",
    "attributes": "jsonb",
}


def _one(conn, query: str, params: dict | None = None) -> tuple:
    """The one row of a DuckDB query (read to the end: the connection takes no other work before)."""
    return conn.execute(query, params).fetchall()[0]


def _pg_type(plan: TablePlan, name: str) -> str:
    if name in _PG_TYPES:
        return _PG_TYPES[name]
    if name in plan.flags:
        return "boolean"
    col = plan.column(name)
    return "bigint" if col.references else col.staging_type


def _fetch_into_duckdb(cursor, query: sql.Composable | None, conn, name: str, columns: list[tuple[str, str]]) -> None:
    """Create DuckDB table `name` (columns: (name, DuckDB type)) holding the rows of a PostgreSQL query
    (None: no rows), plus `__uncertain`: a value that did not convert to its DuckDB type (never expected).
    COPY … TO STDOUT as CSV, parsed by pyarrow a block at a time: nothing holds all of it outside DuckDB,
    whose memory is bounded."""
    defs = ", ".join(f"{quote_ident(n)} {t}" for n, t in columns)
    conn.execute(f"CREATE TABLE {name} ({defs}, __uncertain BOOLEAN)")
    if query is None:
        return
    raw = [f"c{i}" for i in range(len(columns))]
    casts = ", ".join(f"TRY_CAST({r} AS {t})" for r, (_, t) in zip(raw, columns, strict=True))
    uncertain = " OR ".join(
        f"({r} IS NOT NULL AND TRY_CAST({r} AS {t}) IS NULL)" for r, (_, t) in zip(raw, columns, strict=True)
    )
    schema = pa.schema([(r, pa.string()) for r in raw])
    options = {
        "read_options": pa_csv.ReadOptions(column_names=raw),
        "parse_options": pa_csv.ParseOptions(newlines_in_values=True),
        # COPY writes NULL unquoted and empty text quoted.
        "convert_options": pa_csv.ConvertOptions(
            column_types=schema, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    }

    def insert(data: bytearray) -> None:
        conn.register("ll_batch", pa_csv.read_csv(io.BytesIO(data), **options))
        conn.execute(f"INSERT INTO {name} SELECT {casts}, {uncertain} FROM ll_batch")
        conn.unregister("ll_batch")

    # PostgreSQL sends a message per row: rows are gathered into blocks of ~8 MB, each parsed at once (faster
    # than a stream that pyarrow reads as it comes).
    block = bytearray()
    with cursor.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)) as copy:
        for row in copy:
            block += row
            if len(block) >= _FETCH_BLOCK_BYTES:
                insert(block)
                block = bytearray()
    if block:
        insert(block)


_FETCH_BLOCK_BYTES = 8 << 20


def _copy_arrow(cursor, copy_sql: sql.Composable, table: pa.Table) -> None:
    if not table.num_rows:
        return
    buf = io.BytesIO()
    pa_csv.write_csv(table, buf, CSV_OPTIONS)
    with cursor.copy(copy_sql) as copy:
        copy.write(buf.getbuffer())
