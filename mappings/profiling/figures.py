"""Min, max and null count of the number and date columns, over every row of the file.

The profile settles types and formats on a sample (and looks at the DISTINCT_LIMIT most frequent
values of a column in Python), so its own min and max are those of what it read. Once the types are
known, one aggregate pass in DuckDB reads the whole file and replaces them with the file's figures;
each column says which it shows (`figures`: "file" or "sample").
"""

from __future__ import annotations

import os
from decimal import Decimal

import duckdb

from mappings.engine.transforms import duckdb_install_macros
from mappings.intake.dialect import header_width, positional_read_csv_options
from mappings.intake.duck import ragged_sql

NUMERIC_TYPES = ("integer", "decimal")
DATE_TYPES = ("date", "datetime")
# Encodings DuckDB's read_csv decodes by itself; any other original is only read as the sample's UTF-8 copy.
_UTF8 = ("utf-8", "utf8", "ascii", "us-ascii", "utf-8-sig")
FILE_PASS_THREADS = 4  # the pass is one scan with regexes per cell: it scales with threads


def _parsed(profile: dict, cell: str) -> tuple[str, list] | None:
    """SQL reading one clean cell as the column's type (NULL when it does not read), and its parameters."""
    kind = profile["type"]
    if kind == "integer":
        return f"try_cast({cell} AS HUGEINT)", []
    if kind == "decimal" and profile.get("locale") == "de":
        return f"ll_num_de({cell})", []
    if kind == "decimal":  # a plain cast first: most cells are plain numbers, and the macro's regexes cost more
        return f"coalesce(try_cast({cell} AS DECIMAL(38, 6)), ll_num_en({cell}))", []
    if kind in DATE_TYPES and profile.get("format"):
        return f"try_strptime({cell}, ?)", [profile["format"]]
    return None


def _bound(value, kind: str):
    if value is None:
        return None
    if kind == "integer":
        return int(value)
    if kind == "decimal":
        return float(value) if isinstance(value, Decimal) else value
    return value.isoformat(sep=" ")[: 19 if kind == "datetime" else 10]


def figures_relation(csv_path: str, dialect: dict, columns: list[str], null_tokens) -> tuple[str, list] | None:
    """SQL for the whole file shaped as the sample's `sg` (c0 … cN trimmed, null tokens NULL, ragged rows
    left out, as the profile leaves them out), with its parameters; None when the file cannot be read so
    (another encoding, no header, a header wider or narrower than the profile's columns)."""
    encoding = (dialect.get("encoding") or "utf-8").lower().replace("_", "-")
    if encoding not in _UTF8 or not dialect.get("header", True):
        return None
    width = header_width(csv_path, dialect)
    if width != len(columns):
        return None
    options = positional_read_csv_options(dialect, width)
    bound = ", ".join(f"{key} := ?" for key in options)
    is_ragged, _ = ragged_sql(width)
    cells = ", ".join(
        f"CASE WHEN list_contains(?, trim(c{i})) THEN NULL ELSE trim(c{i}) END AS c{i}" for i in range(width)
    )
    tokens = list(null_tokens)
    return (
        f"(SELECT {cells} FROM read_csv(?, {bound}) WHERE NOT {is_ragged})",
        [*[tokens] * width, csv_path, *options.values()],
    )


def apply_file_figures(
    con: duckdb.DuckDBPyConnection, profiles: list[dict], *, relation: str, params: list, sampled: bool
) -> bool:
    """Replace the number and date columns' min, max and nulls by those of `relation` (every row of the
    file) in one aggregate pass, and mark every column with what its figures are over. False when the pass
    failed (the figures stay the sample's, labelled so)."""
    targets = [
        (i, p, _parsed(p, f"c{i}")) for i, p in enumerate(profiles) if p["type"] in (*NUMERIC_TYPES, *DATE_TYPES)
    ]
    targets = [(i, p, parsed) for i, p, parsed in targets if parsed]
    for profile in profiles:
        profile["figures"] = "sample" if sampled else "file"
    if not targets:
        return True
    # Each cell is parsed once, in the inner select; the aggregates read the parsed values.
    parsed = ", ".join(f"c{i}, {expr} AS p{i}" for i, _, (expr, _) in targets)
    parsed_params = [param for _, _, (_, expr_params) in targets for param in expr_params]
    aggregates = ["count(*)"]
    for i, _, _ in targets:
        aggregates += [
            f"min(p{i})",
            f"max(p{i})",
            f"count(*) FILTER (WHERE c{i} IS NULL)",
            f"count(*) FILTER (WHERE c{i} IS NOT NULL AND p{i} IS NULL)",
        ]
    if not con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'll_num_en'").fetchone()[0]:
        duckdb_install_macros(con)
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    try:
        con.execute(f"SET threads = {min(FILE_PASS_THREADS, os.cpu_count() or 1)}")
        row = con.execute(
            f"SELECT {', '.join(aggregates)} FROM (SELECT {parsed} FROM {relation})", [*parsed_params, *params]
        ).fetchone()
    except duckdb.Error:
        return False
    finally:
        con.execute(f"SET threads = {int(threads)}")
    rows = row[0]
    for n, (_, profile, _) in enumerate(targets):
        low, high, nulls, unreadable = row[1 + 4 * n : 5 + 4 * n]
        kind = profile["type"]
        profile.update(
            min=_bound(low, kind),
            max=_bound(high, kind),
            nulls=int(nulls),
            null_share=round(nulls / rows, 4) if rows else 0.0,
            figures="file",
            unreadable=int(unreadable),
        )
        if unreadable:
            profile["notes"].append(f"{unreadable} value(s) in the file do not read as {kind}")
    return True
