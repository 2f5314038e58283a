"""DuckDB → PostgreSQL: stream rows from DuckDB into a table with COPY.

`stage_rows`: DuckDB reads and transforms the file in Arrow record batches; good rows are written as CSV
into `COPY … FROM STDIN` of a staging table, rows with problems become rejected rows. Nothing holds the
whole file. `copy_from_duckdb`: the same stream for any DuckDB query (the direct load, direct.py);
`copy_rows_from_duckdb` sends it in PostgreSQL's binary format where the table's column types allow
(pg_binary.py): the direct load's new rows.
"""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from psycopg import sql

from mappings.engine import pg_binary
from mappings.engine.plan import TablePlan
from mappings.engine.transforms import duckdb_install_macros
from mappings.intake.duck import duckdb_connect_locked
from mappings.intake.upload import pg_storable

BATCH_ROWS = 100_000
# `copy_from_duckdb`'s batches: smaller, as the direct load's DuckDB holds the whole file's rows meanwhile.
QUERY_BATCH_ROWS = 50_000
MAX_STORED_REJECTS = 10_000
CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, batch_size=BATCH_ROWS)


@dataclass
class Reject:
    table: str
    source_row: int | None
    column: str
    value: str
    reason: str


@dataclass
class StageResult:
    staged: int = 0
    rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)


def stage_rows(
    pg_cursor,
    *,
    plan: TablePlan,
    staging: sql.Identifier,
    file_path: str,
    dialect: dict,
    on_progress: Callable[[int], None] | None = None,
) -> StageResult:
    """Run the plan's DuckDB query over the file and COPY its good rows into `staging`.

    DuckDB reads, transforms and CSV-encodes the next batch in a thread while PostgreSQL takes in the
    current one (DuckDB and pyarrow release the GIL); at most `_QUEUED_BATCHES` encoded batches wait.
    """
    result = StageResult()
    names = plan.output_columns
    copy_columns = sql.SQL(", ").join(map(sql.Identifier, ["source_row", *names]))
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(staging, copy_columns)
    _pump(pg_cursor, copy_sql, _produce, (result, plan, file_path, dialect), on_progress)
    return result


def copy_from_duckdb(pg_cursor, copy_sql: sql.Composable, conn, query: str, params=None) -> int:
    """COPY the rows of a DuckDB query on `conn` (CSV-encoded in a thread, as `stage_rows`); returns the rows."""
    counted = StageResult()
    reader = conn.sql(query, params=params).to_arrow_reader(QUERY_BATCH_ROWS)
    _pump(pg_cursor, copy_sql, _produce_query, (counted, reader), None)
    return counted.staged


def copy_rows_from_duckdb(pg_cursor, table: str, columns: list[str], conn, query: str, params=None) -> int:
    """COPY the rows of a DuckDB query (its columns: `columns`, in order) into `table`, in PostgreSQL's binary
    format when every column has a binary encoding (pg_binary.py), else as CSV; returns the rows."""
    reader = conn.sql(query, params=params).to_arrow_reader(QUERY_BATCH_ROWS)
    pg_types = pg_binary.column_types(pg_cursor, table, columns)
    schema = pg_binary.binary_schema(reader.schema, pg_types)
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    counted = StageResult()
    if schema is None:
        _pump(pg_cursor, copy_sql + sql.SQL(" (FORMAT csv)"), _produce_query, (counted, reader), None)
    else:
        args = (counted, reader, schema, pg_types)
        _pump(pg_cursor, copy_sql + sql.SQL(" (FORMAT binary)"), _produce_binary, args, None)
    return counted.staged


def _pump(pg_cursor, copy_sql, produce, args, on_progress) -> None:
    batches: queue.Queue = queue.Queue(maxsize=_QUEUED_BATCHES)
    stop = threading.Event()
    producer = threading.Thread(target=produce, args=(batches, stop, *args), name="copy-rows", daemon=True)
    producer.start()
    try:
        with pg_cursor.copy(copy_sql) as copy:
            while (item := batches.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                data, read = item
                if data is not None:
                    copy.write(data)
                if on_progress:
                    on_progress(read)
    finally:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                batches.get_nowait()
            producer.join(timeout=0.05)


_QUEUED_BATCHES = 2
_DONE = object()


def _putter(batches: queue.Queue, stop: threading.Event):
    def put(item) -> bool:
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    return put


def _produce_query(batches: queue.Queue, stop: threading.Event, result: StageResult, reader) -> None:
    put = _putter(batches, stop)
    try:
        for batch in reader:
            if not batch.num_rows:
                continue
            buf = io.BytesIO()
            pa_csv.write_csv(pa.Table.from_batches([batch]), buf, CSV_OPTIONS)
            result.staged += batch.num_rows
            if not put((buf.getbuffer(), batch.num_rows)):
                return
        put(_DONE)
    except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread, which raises it
        put(exc)


def _produce_binary(batches: queue.Queue, stop: threading.Event, result: StageResult, reader, schema, pg_types) -> None:
    """The producer thread of a binary COPY: the format's header, each batch encoded, the trailer; then _DONE."""
    put = _putter(batches, stop)
    try:
        encoder = pg_binary.encoder(schema)
        if not put((encoder.write_header(), 0)):
            return
        for batch in reader:
            if not batch.num_rows:
                continue
            data = encoder.write_batch(pg_binary.binary_batch(batch, schema, pg_types))
            result.staged += batch.num_rows
            if not put((data, batch.num_rows)):
                return
        if put((encoder.finish(), 0)):
            put(_DONE)
    except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread, which raises it
        put(exc)


def _produce(batches: queue.Queue, stop: threading.Event, result: StageResult, plan, file_path, dialect) -> None:
    """The producer thread: (CSV bytes or None, rows read) per batch, then _DONE, or the exception."""
    put = _putter(batches, stop)
    conn = None
    try:
        conn = duckdb_connect_locked(file_path)
        duckdb_install_macros(conn)
        query, params = plan.duckdb_query(file_path=file_path, dialect=dialect)
        reader = conn.sql(query, params=params).to_arrow_reader(BATCH_ROWS)
        # The header is line 1 of the file, so record n (0-based) is reported as row n + 2.
        first_row = 2
        for batch in reader:
            n = batch.num_rows
            if not n:
                continue
            rows = pa.array(range(first_row, first_row + n), pa.int64())
            first_row += n
            errors = batch.column("__errors")
            # A row left out by options.skip_rows has no __errors (NULL): neither good nor rejected.
            ok = pc.fill_null(pc.equal(pc.list_value_length(errors), 0), False)
            bad = pc.fill_null(pc.greater(pc.list_value_length(errors), 0), False)
            good = pa.Table.from_batches([batch]).drop_columns(["__errors"])
            good = good.add_column(0, "source_row", rows)
            bad_count = pc.sum(bad.cast(pa.int64())).as_py() or 0
            if bad_count:
                collect_rejects(result, plan.name, rows.filter(bad), errors.filter(bad))
            if bad_count or good.num_rows != pc.sum(ok.cast(pa.int64())).as_py():
                good = good.filter(ok)
            data = None
            if good.num_rows:
                buf = io.BytesIO()
                pa_csv.write_csv(good, buf, CSV_OPTIONS)
                data = buf.getbuffer()
            result.staged += good.num_rows
            result.rejected += bad_count
            if not put((data, n)):
                return
        put(_DONE)
    except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread, which raises it
        put(exc)
    finally:
        if conn is not None:
            conn.close()


def collect_rejects(result: StageResult, table: str, rows: pa.Array, errors: pa.Array) -> None:
    for row, problems in zip(rows.to_pylist(), errors.to_pylist(), strict=True):
        for problem in problems:
            if len(result.rejects) >= MAX_STORED_REJECTS:
                return
            result.rejects.append(
                Reject(
                    table,
                    row,
                    pg_storable(problem["column"] or ""),
                    pg_storable((problem["value"] or "")[:1000]),
                    pg_storable(problem["reason"]),
                )
            )


def missing_reason(referent_table: str, value) -> str:
    return f"no {referent_table} row has external id, email or name {value!r}"
