"""What one row of a file is, read from the whole file: its keys and which columns each key determines.

An analyst looking at an export asks: which column (or pair) is unique per row? Which columns repeat
with the same values whenever an id repeats (an order's date and customer repeat on each of its lines)?
This module answers both in DuckDB over every row, by position (never by header text):
  - per column: non-null and distinct counts;
  - the row key: a candidate column unique over the file, else the smallest pair that is;
  - for each repeating candidate key K, the columns constant within every value of K (functional
    dependencies K → C), and those that vary in only a few groups (a denormalized parent with noise).
The proposer turns this into grain and entities (proposer/grain-aware table choice); nothing here
knows the canonical schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_KEY_CANDIDATES = 10  # repeating keys tested for dependencies; each is one GROUP BY over the file
NEARLY = 0.05  # a dependency that fails in at most this share of a key's groups is "nearly" one


SOME_REPEATED = 0.25  # a load's disagreeing keys: at most this share of the keys that repeat as well


def nearly_holds(failing: int, groups: int, repeated: int | None = None, *, floor: float = 1) -> bool:
    """Whether a dependency failing in `failing` of a key's `groups` still "nearly" holds: data noise, not a
    different fact. A load that keeps the last row of each disagreeing key also takes the share of the
    `repeated` groups (two rows or more, the only ones that can fail); the profile's reading does not (that
    stricter reading moved a held-out file to the wrong table twice: 62869e8, 697741c). `floor`: the failures
    allowed however few the groups (the profile forgives one; a load forgives none beyond the shares)."""
    if failing > max(floor, NEARLY * groups):
        return False
    return repeated is None or failing <= max(floor, SOME_REPEATED * repeated)


@dataclass
class KeyEvidence:
    column: int
    distinct: int
    nonnull: int
    unique: bool  # unique over the non-null rows
    determines: list[int] = field(default_factory=list)  # columns constant within each of its values
    nearly: dict[int, int] = field(default_factory=dict)  # column -> groups where it varies (few)
    varies: dict[int, int] = field(default_factory=dict)  # column -> groups where it varies (many)

    def as_json(self, names: list[str]) -> dict:
        return {
            "column": names[self.column],
            "distinct": self.distinct,
            "nonnull": self.nonnull,
            "unique": self.unique,
            "determines": [names[c] for c in self.determines],
            "nearly": {names[c]: n for c, n in self.nearly.items()},
        }


@dataclass
class FileGrain:
    rows: int
    nonnull: list[int]
    distinct: list[int]  # exact for key candidates, approximate (HyperLogLog) for the others
    row_key: list[int] | None  # the columns that make each row unique, or None
    keys: dict[int, KeyEvidence]
    duplicate_rows: int = 0  # rows identical in every column to an earlier row

    def as_json(self, names: list[str]) -> dict:
        return {
            "rows": self.rows,
            "row_key": [names[c] for c in self.row_key] if self.row_key is not None else None,
            "duplicate_rows": self.duplicate_rows,
            "columns": {
                names[i]: {"nonnull": self.nonnull[i], "distinct": self.distinct[i]} for i in range(len(names))
            },
            "keys": {names[k]: ev.as_json(names) for k, ev in self.keys.items()},
        }


def _c(i: int) -> str:
    return f"c{i}"


def file_grain(con, table: str, width: int, candidates: list[int]) -> FileGrain:
    """The grain of `table` (columns c0 … c{width-1}, trimmed text, NULL for nothing).

    `candidates`: the columns whose values could identify something (ids, codes, names): the caller
    leaves out dates, amounts, free text and yes/no columns.
    """
    cols = [_c(i) for i in range(width)]
    stats = ", ".join(f"count({c}), approx_count_distinct({c})" for c in cols)
    row = con.execute(f"SELECT count(*), {stats} FROM {table}").fetchone()
    rows = int(row[0])
    nonnull = [int(row[1 + 2 * i]) for i in range(width)]
    distinct = [int(row[2 + 2 * i]) for i in range(width)]
    candidates = [i for i in candidates if nonnull[i] and distinct[i] >= 2 or (rows == 1 and nonnull[i])]
    if candidates:
        exact = con.execute(
            "SELECT " + ", ".join(f"count(DISTINCT {_c(i)})" for i in candidates) + f" FROM {table}"
        ).fetchone()
        for i, n in zip(candidates, exact, strict=True):
            distinct[i] = int(n)
    (distinct_rows,) = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT * FROM {table})").fetchone()
    keys = {i: KeyEvidence(i, distinct[i], nonnull[i], distinct[i] == nonnull[i]) for i in candidates}
    row_key = _row_key(con, table, rows, keys)
    repeating = sorted(
        (k for k in keys.values() if not k.unique and k.distinct >= 2),
        key=lambda k: -k.distinct,
    )[:MAX_KEY_CANDIDATES]
    for key in repeating:
        _dependencies(con, table, width, key)
    for key in keys.values():
        if key.unique:
            key.determines = [c for c in range(width) if c != key.column]
    return FileGrain(rows, nonnull, distinct, row_key, keys, duplicate_rows=rows - int(distinct_rows))


def _row_key(con, table: str, rows: int, keys: dict[int, KeyEvidence]) -> list[int] | None:
    full = [k for k in keys.values() if k.unique and k.nonnull == rows]
    counters = _row_positions(con, table, rows, full)
    if counters:
        # A column holding each row's own position (0, 1, 2 … in file order: the index pandas writes) is
        # unique by construction and says nothing of what a row is: the rows' key is what else makes them unique.
        named = _row_key(con, table, rows, {i: k for i, k in keys.items() if i not in counters})
        return named or [counters[0]]
    if full:
        return [max(full, key=lambda k: -k.column).column] if len(full) == 1 else [full[0].column]
    # Pairs: the most distinct candidates first; a pair can only be unique if its product reaches `rows`.
    ranked = sorted(keys.values(), key=lambda k: -k.distinct)[:MAX_KEY_CANDIDATES]
    pairs = [
        (a, b)
        for n, a in enumerate(ranked)
        for b in ranked[n + 1 :]
        if a.distinct * b.distinct >= rows and a.nonnull == rows and b.nonnull == rows
    ]
    if not pairs:
        return None
    counts = con.execute(
        "SELECT " + ", ".join(f"count(DISTINCT ({_c(a.column)}, {_c(b.column)}))" for a, b in pairs) + f" FROM {table}"
    ).fetchone()
    unique_pairs = [pair for pair, n in zip(pairs, counts, strict=True) if n == rows]
    if not unique_pairs:
        return None
    a, b = min(unique_pairs, key=lambda p: (p[0].distinct * p[1].distinct, p[0].column + p[1].column))
    return sorted([a.column, b.column])


def _row_positions(con, table: str, rows: int, full: list[KeyEvidence]) -> list[int]:
    """The columns among `full` whose value on every row is that row's position, counted from 0."""
    if rows < 2 or not full:
        return []
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE TRY_CAST({_c(k.column)} AS BIGINT) = rowid)" for k in full)
        + f" FROM {table}"
    ).fetchone()
    return [k.column for k, n in zip(full, counts, strict=True) if n == rows]


def _dependencies(con, table: str, width: int, key: KeyEvidence) -> None:
    """Which columns are constant within each value of `key` (one GROUP BY over the file)."""
    others = [c for c in range(width) if c != key.column]
    if not others:
        return
    per_group = ", ".join(f"min({_c(c)}) <> max({_c(c)}) AS v{c}" for c in others)
    varying = ", ".join(f"count(*) FILTER (WHERE v{c})" for c in others)
    counts = con.execute(
        f"SELECT count(*), {varying} FROM (SELECT {per_group} FROM {table} "
        f"WHERE {_c(key.column)} IS NOT NULL GROUP BY {_c(key.column)})"
    ).fetchone()
    groups = int(counts[0])
    for c, n in zip(others, counts[1:], strict=True):
        if n == 0:
            key.determines.append(c)
        elif nearly_holds(int(n), groups):
            key.nearly[c] = int(n)
        else:
            key.varies[c] = int(n)
