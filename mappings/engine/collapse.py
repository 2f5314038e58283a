"""Rows of a file that share a key: how many collapse into how many keys, and whether they disagree.

A file that repeats an identifier loads one row per identifier (the last occurrence wins). That is right
for a denormalized parent repeated on each line (the same customer on every order line: identical values),
and wrong when the rows disagree (a line number taken for an order key): those are never merged silently.
`collapse_count` measures both in one grouped pass over the rows to load (DuckDB or PostgreSQL: the SQL
is the same), before anything is written; the execution reports it and `ingest --auto` refuses conflicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mappings.engine.plan import TablePlan
from mappings.intake.duck import quote_ident

EXAMPLE_VALUES = 3


@dataclass
class Collapse:
    rows: int  # rows whose key is repeated
    keys: int  # the keys they collapse into
    conflicting_keys: int  # keys whose rows disagree on some other column
    key_column: str  # the file's column the key comes from
    conflicting_columns: dict[str, int] = field(default_factory=dict)  # column → keys where it disagrees
    example: dict = field(default_factory=dict)
    all_keys: int = 0  # the distinct keys of all the rows to load, repeated or not

    def report(self) -> dict:
        return {
            "rows": self.rows,
            "keys": self.keys,
            "all_keys": self.all_keys,
            "conflicting_keys": self.conflicting_keys,
            "key_column": self.key_column,
            "conflicting_columns": self.conflicting_columns,
            "example": self.example,
        }

    def line(self, table: str) -> str:
        """The report's one line about it, naming the key column."""
        if self.conflicting_keys:
            columns = ", ".join(self.conflicting_columns)
            return (
                f"{table}: {self.rows} rows share {self.keys} values of key column {self.key_column!r}; "
                f"{self.conflicting_keys} of those keys have rows that disagree ({columns}), so only the "
                f"last row of each was kept: {self.key_column!r} does not identify a {table} row"
            )
        return (
            f"{table}: {self.rows} rows repeat {self.keys} values of key column {self.key_column!r} with "
            "identical values (a repeated parent): loaded once each"
        )


def _compared(plan: TablePlan) -> list[tuple[str, str]]:
    """(column of the rows to load, the file's column it comes from) for every value besides the key."""
    compared = [(c.name, c.source_col or c.name) for c in plan.columns if c.name != "external_id"]
    if plan.attributes:  # the row's attributes as one value, named by their columns
        compared.append(("attributes", ", ".join(a.source_col or a.label for a in plan.attributes)))
    return compared


def collapse_sql(plan: TablePlan, relation: str, *, every_key: bool = False) -> str:
    """One row per repeated key of `relation` (columns: external_id and the plan's value columns), or per key
    when `every_key`: the number of its rows and, per compared column, whether its rows disagree (a NULL beside
    a value counts; a key of one row never disagrees)."""
    flags = [
        f"(count(DISTINCT {quote_ident(n)}) > 1 OR count({quote_ident(n)}) BETWEEN 1 AND count(*) - 1) AS k{i}"
        for i, (n, _) in enumerate(_compared(plan))
    ]
    return (
        f"SELECT external_id, count(*) AS n{''.join(', ' + f for f in flags)} "
        f"FROM {relation} GROUP BY external_id{'' if every_key else ' HAVING count(*) > 1'}"
    )


def collapse_count(plan: TablePlan, relation: str, fetch: Callable[[str], list[tuple]]) -> Collapse | None:
    """The collapse of `relation`'s rows (SQL valid in DuckDB and PostgreSQL), or None when no key repeats.
    `fetch(query)` runs a query and returns its rows."""
    compared = _compared(plan)
    conflict = " OR ".join(f"k{i}" for i in range(len(compared))) or "false"
    sums = "".join(f", count(*) FILTER (WHERE k{i})" for i in range(len(compared)))
    # One grouping over every key gives the repeated keys and the count of all keys alike.
    query = (
        f"SELECT sum(n) FILTER (WHERE n > 1), count(*) FILTER (WHERE n > 1), count(*) FILTER (WHERE {conflict}), "
        f"min(external_id) FILTER (WHERE {conflict}), count(external_id){sums} "
        f"FROM ({collapse_sql(plan, relation, every_key=True)}) g"
    )
    rows, keys, conflicting, first, all_keys, *per_column = fetch(query)[0]
    if not keys:
        return None
    key = plan.column("external_id")
    result = Collapse(
        rows=int(rows),
        keys=int(keys),
        conflicting_keys=int(conflicting),
        all_keys=int(all_keys or 0),
        key_column=(key.source_col if key is not None and key.source_col else "external_id"),
    )
    for (_name, source), count in zip(compared, per_column, strict=True):
        if count:
            result.conflicting_columns[source] = int(count)
    if first is not None:
        name, source = next(c for c, count in zip(compared, per_column, strict=True) if count)
        # The key is selected again rather than written into the SQL: no value from the file becomes SQL text.
        example_key = f"SELECT min(external_id) FROM ({collapse_sql(plan, relation)}) g WHERE {conflict}"
        values = fetch(
            f"SELECT DISTINCT CAST({quote_ident(name)} AS VARCHAR) AS v FROM {relation} "
            f"WHERE external_id = ({example_key}) ORDER BY v NULLS FIRST LIMIT {EXAMPLE_VALUES}"
        )
        result.example = {"key": first, "column": source, "values": [v for (v,) in values]}
    return result
