"""One date format per column: "auto" is resolved over the whole column before anything loads.

A value-by-value "first format that parses" mixes formats within a column (03/01/19 read month-first
beside 13/01/19 read day-first) and takes two-digit years for the years 1–99. Instead the candidates of
AUTO_DATE_FORMATS that read a value in the file's first rows are scored over the whole column in one
DuckDB pass: the format that reads the most values as a plausible date (years 1900–2100) is the
column's, ties going to the earlier candidate.
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


@dataclass(frozen=True)
class DateFormat:
    format: str | None  # None: no candidate reads any value (the values are rejected as unreadable)
    read: int  # values the format reads as a plausible date
    values: int  # values present in the column
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
    every value costs seconds per million rows). A file no longer than the sample is read once."""
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

    Where a column has several formats to try (`distinct`, by default), each distinct value is parsed once and
    weighed by how often it occurs (a column of dates repeats a few thousand values): one scan groups every
    column's values (a grouping set each), then the formats are tried on the distinct values only. With one
    format per column, trying it on each row is cheaper than grouping. The counts are the same either way."""
    if distinct is None:
        distinct = any(len(candidates) > 1 for candidates in formats)
    params = SqlParams()
    lo, hi = params.bind(PLAUSIBLE_YEARS[0]), params.bind(PLAUSIBLE_YEARS[1])
    values, aggregates = [], []
    for k, (col, candidates) in enumerate(zip(columns, formats, strict=True)):
        values.append(f"trim({_text(compile_steps(col.source_col, list(col.steps), params)).sql}) AS __v{k}")
        # A grouped row of column k's grouping set: the other columns are NULL there, grouping(__vk) is 0.
        weight, mine = ("__n", f"__g{k} = 0 AND ") if distinct else ("1", "")
        aggregates.append(f"coalesce(sum({weight}) FILTER (WHERE {mine}__v{k} IS NOT NULL), 0)")
        for fmt in candidates:
            plausible = f"year(try_strptime(__v{k}, {params.bind(fmt)})) BETWEEN {lo} AND {hi}"
            aggregates.append(f"coalesce(sum({weight}) FILTER (WHERE {mine}{plausible}), 0)")
    relation, _ = read_csv_relation_bound(dialect, file_path, params.bind)
    rows = f"(SELECT * FROM {relation} LIMIT {int(limit)})" if limit else relation
    keys = [f"__v{k}" for k in range(len(columns))]
    scanned = f"SELECT {', '.join(values)} FROM {rows}"
    if distinct:
        aggregates.insert(0, "coalesce(sum(__n) FILTER (WHERE __g0 = 0), 0)")
        scanned = (
            f"SELECT {', '.join(keys)}, {', '.join(f'grouping({key}) AS __g{k}' for k, key in enumerate(keys))}, "
            f"count(*) AS __n FROM ({scanned}) GROUP BY GROUPING SETS ({', '.join(f'({key})' for key in keys)})"
        )
    else:
        aggregates.insert(0, "count(*)")
    query = f"SELECT {', '.join(aggregates)} FROM ({scanned})"
    total, *row = conn.execute(query, params.used_by(query)).fetchone()
    result = []
    for candidates in formats:
        present, counts, row = row[0], row[1 : len(candidates) + 1], row[len(candidates) + 1 :]
        result.append((int(present), [int(n) for n in counts]))
    return int(total), result
