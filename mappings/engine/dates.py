"""One date format per column: "auto" is resolved over the whole column before anything loads.

A value-by-value "first format that parses" mixes formats within a column (03/01/19 read month-first
beside 13/01/19 read day-first) and takes two-digit years for the years 1–99. Instead the candidates of
AUTO_DATE_FORMATS that read a value in the file's first rows are scored over the whole column in one
DuckDB pass: the format that reads the most values as a plausible date (years 1900–2100) is the
column's, ties going to the earlier candidate.

When the first rows leave a column one candidate, the whole-file pass can only count: which format wins is
known. A direct load, which parses every value of the column with that format anyway, may then count the
column's `read` and `values` itself (`DateColumn.counted_by_load`, `load_count_sql`) and the file is not
read an extra time for them (bench/RESULTS-attributes.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from mappings.engine.transforms import AUTO_DATE_FORMATS, SqlParams, _text, compile_steps, duckdb_install_macros
from mappings.intake.duck import duckdb_connect_locked, read_csv_relation_bound

PLAUSIBLE_YEARS = (1900, 2100)


@dataclass(frozen=True)
class DateColumn:
    """A column whose date format is to be resolved: the file's column and the steps before parsing."""

    key: str  # "table.column", the report's name for it
    source_col: str | None
    steps: tuple
    # The load counts read and values as it parses the column (load_count_sql): with one candidate left by the
    # first rows, no whole-file pass is made for this column.
    counted_by_load: bool = False


@dataclass(frozen=True)
class DateFormat:
    format: str | None  # None: no candidate reads any value (the values are rejected as unreadable)
    read: int | None  # values the format reads as a plausible date (None: the load counts them)
    values: int | None  # values present in the column (None: the load counts them)
    tied: tuple[str, ...] = ()  # other formats that read as many (the choice is by candidate order)

    def report(self, source_col: str | None) -> dict:
        report = {"column": source_col, "format": self.format, "read": self.read, "values": self.values}
        if self.tied:
            report["tied"] = list(self.tied)
        return report


def date_formats_resolve(columns: list[DateColumn], *, file_path: str, dialect: dict) -> dict[str, DateFormat]:
    """The best single format of each column, by key. Every candidate is tried on the file's first
    SAMPLE_ROWS rows; the ones that read a value there are counted over the whole file, in one pass for
    all columns (a format that reads nothing in the sample is not tried further: trying every candidate on
    every value costs seconds per million rows). A file no longer than the sample is read once. When every
    column is `counted_by_load` and the sample left it one candidate, the file is not read again: that format
    is the column's, its `read` and `values` None (the load counts them)."""
    if not columns:
        return {}
    conn = duckdb_connect_locked(file_path)
    try:
        duckdb_install_macros(conn)
        everything = [list(AUTO_DATE_FORMATS) for _ in columns]
        rows, sampled = _count(conn, columns, everything, file_path=file_path, dialect=dialect, limit=SAMPLE_ROWS)
        candidates = [
            [fmt for fmt, n in zip(formats, counts, strict=True) if n] if present else formats
            for formats, (present, counts) in zip(everything, sampled, strict=True)
        ]
        if rows < SAMPLE_ROWS:  # the sample was the whole file: its counts are the column's
            counted = [(present, [n for n in counts if n] if present else counts) for present, counts in sampled]
        elif all(col.counted_by_load and len(formats) == 1 for col, formats in zip(columns, candidates, strict=True)):
            # One candidate each, read in the sample: it wins over the whole file too (its count there is at least
            # the sample's). Only the counts would need the pass, and the load makes them.
            return {
                col.key: DateFormat(format=formats[0], read=None, values=None)
                for col, formats in zip(columns, candidates, strict=True)
            }
        else:
            _, counted = _count(conn, columns, candidates, file_path=file_path, dialect=dialect)
    finally:
        conn.close()
    chosen = {}
    for col, formats, (present, counts) in zip(columns, candidates, counted, strict=True):
        best = max(counts) if counts else 0
        if not best:
            chosen[col.key] = DateFormat(format=None, read=0, values=present)
            continue
        winners = [fmt for fmt, n in zip(formats, counts, strict=True) if n == best]
        chosen[col.key] = DateFormat(format=winners[0], read=best, values=present, tied=tuple(winners[1:]))
    return chosen


SAMPLE_ROWS = 20_000


def plausible_sql(parsed: str, lo: str, hi: str) -> str:
    """Whether a parsed value (SQL; NULL when the format does not read it) is a plausible date: its year in
    PLAUSIBLE_YEARS (`lo`, `hi`: their SQL). What `read` counts, in the whole-file pass and in a load."""
    return f"year({parsed}) BETWEEN {lo} AND {hi}"


def load_count_sql(text: str, parsed: str, params) -> str:
    """The flag a load computes per row of a `counted_by_load` column, from the column's text before its
    parse_date step (`text`, SQL) and that step's result (`parsed`, SQL: `try_strptime(trim(text), format)`):
    NULL when there is no value (`values` counts the others), true when it reads as a plausible date (`read`
    counts those), false otherwise. The counts of the whole-file pass (_count), without reading the file again
    (a text is trimmed there: trimmed or not, it is NULL or not alike)."""
    lo, hi = params.bind(PLAUSIBLE_YEARS[0]), params.bind(PLAUSIBLE_YEARS[1])
    return f"CASE WHEN {text} IS NOT NULL THEN coalesce({plausible_sql(parsed, lo, hi)}, false) END"


def _count(
    conn,
    columns: list[DateColumn],
    formats: list[list[str]],
    *,
    file_path: str,
    dialect: dict,
    limit: int = 0,
    distinct: bool | None = None,
) -> tuple[int, list[tuple[int, list[int]]]]:
    """The rows read and, per column, (values present, values each of its formats reads as a plausible date).

    `distinct` (the default for a sample): each column's distinct values are counted (one scan, one table of
    column, value, rows), each format is tried once per distinct value and its reads are weighed by their rows
    (a sample of dates repeats a few hundred values; 24 formats on each of 20,000 rows cost 0.3 s). Else, as for
    the whole file, each row is tried: grouping a million distinct timestamps costs more than parsing them, and
    memory. The counts are the same either way."""
    if distinct is None:
        distinct = bool(limit)
    params = SqlParams()
    lo, hi = params.bind(PLAUSIBLE_YEARS[0]), params.bind(PLAUSIBLE_YEARS[1])
    values = [
        f"trim({_text(compile_steps(col.source_col, list(col.steps), params)).sql}) AS __v{k}"
        for k, col in enumerate(columns)
    ]
    relation, _ = read_csv_relation_bound(dialect, file_path, params.bind)
    rows = f"(SELECT * FROM {relation} LIMIT {int(limit)})" if limit else relation
    scanned = f"SELECT {', '.join(values)} FROM {rows}"
    if not distinct:
        aggregates = ["count(*)"]
        for k, candidates in enumerate(formats):
            aggregates.append(f"count(__v{k})")
            for fmt in candidates:
                plausible = plausible_sql(f"try_strptime(__v{k}, {params.bind(fmt)})", lo, hi)
                aggregates.append(f"count(*) FILTER (WHERE {plausible})")
        query = f"SELECT {', '.join(aggregates)} FROM ({scanned})"
        total, *row = conn.execute(query, params.used_by(query)).fetchone()
        result = []
        for candidates in formats:
            present, counts, row = row[0], row[1 : len(candidates) + 1], row[len(candidates) + 1 :]
            result.append((int(present), [int(n) for n in counts]))
        return int(total), result
    tried = list(dict.fromkeys(fmt for candidates in formats for fmt in candidates))
    numbers = ", ".join(str(k) for k in range(len(columns)))
    keyed = f"SELECT unnest([{numbers}]) AS __k, unnest([{', '.join(f'__v{k}' for k in range(len(columns)))}]) AS __v"
    grouped = f"SELECT __k, __v, count(*) AS __n FROM ({keyed} FROM ({scanned})) GROUP BY __k, __v"
    parsed = ", ".join(
        f"{plausible_sql(f'try_strptime(__v, {params.bind(fmt)})', lo, hi)} AS __p{i}" for i, fmt in enumerate(tried)
    )
    sums = ", ".join(f"coalesce(sum(__n) FILTER (WHERE __p{i}), 0)" for i in range(len(tried)))
    query = (
        f"SELECT __k, sum(__n), coalesce(sum(__n) FILTER (WHERE __v IS NOT NULL), 0){', ' + sums if sums else ''} "
        f"FROM (SELECT __k, __v, __n{', ' + parsed if parsed else ''} FROM ({grouped})) GROUP BY __k"
    )
    by_column = {int(k): rest for k, *rest in conn.execute(query, params.used_by(query)).fetchall()}
    total = int(by_column[0][0]) if by_column else 0  # every row gives each column one entry, NULL or not
    result = []
    for k, candidates in enumerate(formats):
        _, present, *reads = by_column.get(k, (0, 0, *([0] * len(tried))))
        counts = dict(zip(tried, reads, strict=True))
        result.append((int(present), [int(counts[fmt]) for fmt in candidates]))
    return total, result
