"""Which date format a column is written in, decided by the evidence of all its values.

Every candidate format is tried on every distinct value of the column (in DuckDB): a format must read
them all, give years a business file can hold, and, where day and month can trade places, the values
above 12 say which is which. When no value in the column settles it, the file's other date columns
do (one export writes its dates one way), then the order of the file's dates (a ship date is not before
its order date), then a locale the user gave. Otherwise the choice is marked undecided: the review page
says so and `ingest --auto` does not accept it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# How a moment is written: ISO forms with a zone or a fraction, as exports write them.
_ISO_MOMENTS = (
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S.%f %z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S UTC",
    "%Y-%m-%d %H:%M:%S.%f",
)
# The ways a day is written (month-first before its day-first twin: the first reading wins among equals)...
_DAYS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%m-%d-%Y",
    "%d-%m-%Y",
    "%m-%d-%y",
    "%d-%m-%y",
    "%d %b %Y",
    "%d %b, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%Y%m%d",
)
# ... and the times of day that may follow any of them: an export writes one day and one time, in any pairing.
_TIMES = (" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p")

# Most specific first: the first format that reads every value wins among equals.
DATE_FORMATS = _ISO_MOMENTS + tuple(
    fmt for day in _DAYS for fmt in [*(day + t for t in _TIMES if day != "%Y%m%d"), day]
)


# Formats that read the same text two ways: day-first and month-first twins.
def _swap(fmt: str) -> str:
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


_TWINS = {fmt: _swap(fmt) for fmt in DATE_FORMATS if _swap(fmt) != fmt and _swap(fmt) in DATE_FORMATS}

MIN_YEAR, MAX_YEAR = 1900, 2100
DATEISH = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{2,4}|^\d{1,2}[ -][A-Za-z]{3}|^[A-Za-z]{3,9} \d{1,2},? \d{4}|^\d{8}$")


@dataclass
class DateChoice:
    """What the values say about one column's dates."""

    format: str | None
    has_time: bool = False
    parsed: int = 0  # distinct values the format reads
    distinct: int = 0  # distinct non-null values
    implausible: int = 0  # distinct values read as a year outside MIN_YEAR..MAX_YEAR by the best format
    day_first: bool | None = None  # None: the format has no day/month to trade
    decided_by: str = ""  # why day and month are where they are ("values", "file", "order", "locale", "")
    undecided: bool = False  # day/month could go either way and nothing settled it
    alternatives: list[str] = field(default_factory=list)
    reason: str = ""
    # Every format that reads some of the values: [{"format", "parse_rate"}], best first (the review page's picker).
    candidates: list[dict] = field(default_factory=list)

    @property
    def parse_rate(self) -> float:
        return self.parsed / self.distinct if self.distinct else 0.0

    def as_json(self) -> dict:
        return {
            "format": self.format,
            "has_time": self.has_time,
            "parse_rate": round(self.parse_rate, 4),
            "implausible": self.implausible,
            "day_first": self.day_first,
            "decided_by": self.decided_by,
            "undecided": self.undecided,
            "alternatives": self.alternatives,
            "reason": self.reason,
            "candidates": self.candidates,
        }


def _is_day_first(fmt: str) -> bool | None:
    if fmt not in _TWINS:
        return None
    return fmt.index("%d") < fmt.index("%m")


def looks_like_dates(values: list[str]) -> bool:
    return any(DATEISH.match(v) for v in values[:50])


def column_date_evidence(con, relation: str, column: str, params: list | None = None) -> DateChoice | None:
    """The best date format for `column` of `relation` (SQL text of a table or subquery whose values are
    trimmed text, NULL for nothing), from every distinct value; None when no format reads nearly all."""
    params = params or []
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE __dv AS SELECT DISTINCT {column} AS v FROM {relation} "
        f"WHERE {column} IS NOT NULL",
        params,
    )
    (distinct,) = con.execute("SELECT count(*) FROM __dv").fetchone()
    if not distinct:
        return None
    parses = ", ".join(f"count(try_strptime(v, ${i + 1}))" for i in range(len(DATE_FORMATS)))
    counts = con.execute(f"SELECT {parses} FROM __dv", list(DATE_FORMATS)).fetchone()
    readers = [(fmt, n) for fmt, n in zip(DATE_FORMATS, counts, strict=True) if n >= 0.98 * distinct]
    if not readers:
        return None
    read_some = sorted((-n, i, fmt) for i, (fmt, n) in enumerate(zip(DATE_FORMATS, counts, strict=True)) if n)
    candidates = [{"format": fmt, "parse_rate": round(-n / distinct, 4)} for n, _, fmt in read_some[:8]]
    fmts = [fmt for fmt, _ in readers]
    plausible = ", ".join(
        f"count(*) FILTER (WHERE year(try_strptime(v, ${i + 1})) NOT BETWEEN {MIN_YEAR} AND {MAX_YEAR})"
        for i in range(len(fmts))
    )
    bad = con.execute(f"SELECT {plausible} FROM __dv", fmts).fetchone()
    scored = [(fmt, n, b) for (fmt, n), b in zip(readers, bad, strict=True)]
    # Plausible years first, then the most values read, then the list's order (most specific first).
    best_fmt, best_n, best_bad = min(scored, key=lambda s: (s[2] > 0, -s[1], DATE_FORMATS.index(s[0])))
    choice = DateChoice(format=best_fmt, parsed=best_n, distinct=distinct, implausible=best_bad, candidates=candidates)
    equals = [fmt for fmt, n, b in scored if fmt != best_fmt and b == 0 and n == best_n]
    choice.alternatives = equals
    if best_bad:
        choice.reason = f"{best_bad} of {distinct} values read as years outside {MIN_YEAR}-{MAX_YEAR}"
    else:
        choice.reason = (
            f"every value reads as {best_fmt}"
            if best_n == distinct
            else (f"{best_n} of {distinct} distinct values read as {best_fmt}")
        )
    twin = _TWINS.get(best_fmt)
    choice.day_first = _is_day_first(best_fmt)
    if twin:
        if twin in equals:
            choice.undecided = True
            choice.reason += f"; no value above 12 in either position, so it could be {twin} too"
        else:
            first_big = "first" if choice.day_first else "second"
            choice.decided_by = "values"
            choice.reason += f"; values above 12 in the {first_big} position make it " + (
                "day-first" if choice.day_first else "month-first"
            )
    if "%z" in best_fmt or best_fmt.endswith(("Z", "UTC")):
        choice.has_time = True  # a moment with its zone, midnight or not
    elif "%H" in best_fmt or "%I" in best_fmt:
        (nonmidnight,) = con.execute(
            "SELECT count(*) FROM __dv WHERE try_strptime(v, ?)::TIME <> TIME '00:00:00'", [best_fmt]
        ).fetchone()
        choice.has_time = nonmidnight > 0
    con.execute("DROP TABLE __dv")
    return choice


def _flip(choice: DateChoice, why: str, how: str) -> None:
    """Settle an undecided choice as day-first or month-first."""
    twin = _TWINS[choice.format]
    want_day_first = how == "day"
    if choice.day_first != want_day_first:
        choice.alternatives = [choice.format] + [a for a in choice.alternatives if a != twin]
        choice.format = twin
        choice.day_first = want_day_first
    choice.undecided = False
    choice.reason = f"every value reads as {choice.format}; {why}"


def settle_with_file(
    choices: dict[str, DateChoice],
    *,
    con=None,
    relation: str | None = None,
    locale: str | None = None,
    columns: dict[str, str] | None = None,
    months: dict[str, str] | None = None,
) -> None:
    """Decide the undecided day/month columns from the rest of the file (in place).

    1. Another date column of the file whose values decided it: the export writes its dates one way.
    2. The dates' order: where one reading puts a column's dates after another's in (nearly) every row
       (a ship date after its order date) and the other reading does not.
    3. The rows' order: an export sorted by date whose dates, read one way, never go back from row to row (or
       never forward) over at least MIN_SORTED_STEPS changes of date, and read the other way do both.
    4. A column of month numbers (`months`: name -> SQL, whole numbers 1 to 12) equal to one of the two fields
       on every row: that field is the month ('01/06/2014' beside Month Number 6 is day-first).
    5. A locale the user gave ("de" day-first, "en-US" month-first).
    `columns`: the SQL of each column of `relation` by its name in `choices`, where they differ.
    """
    undecided = {name: c for name, c in choices.items() if c.undecided}
    if not undecided:
        return
    decided = [(n, c) for n, c in choices.items() if c.decided_by == "values" and c.day_first is not None]
    for choice in undecided.values():
        sep = _separator(choice.format)
        same = [(n, c) for n, c in decided if _separator(c.format) == sep] or decided
        if same:
            n, c = same[0]
            how = "day" if c.day_first else "month"
            _flip(choice, f"'{n}' in the same file is {how}-first (its values say so)", how)
            choice.decided_by = "file"
    undecided = {name: c for name, c in choices.items() if c.undecided}
    if undecided and con is not None and relation is not None:
        for name, choice in undecided.items():
            verdict = _order_verdict(con, relation, name, choice, choices, columns or {})
            if verdict:
                how, other = verdict
                _flip(
                    choice,
                    f"read {how}-first, it stays on one side of '{other}' in every row; the other way, it does not",
                    how,
                )
                choice.decided_by = "order"
    undecided = {name: c for name, c in choices.items() if c.undecided}
    if undecided and con is not None and relation is not None:
        for name, choice in undecided.items():
            how = _sorted_verdict(con, relation, (columns or {}).get(name, _ident(name)), choice)
            if how:
                _flip(
                    choice,
                    f"read {how}-first, the rows are in date order ({MIN_SORTED_STEPS} or more changes of date, "
                    "none going back); read the other way, they go back and forth",
                    how,
                )
                choice.decided_by = "rows"
    undecided = {name: c for name, c in choices.items() if c.undecided}
    if undecided and con is not None and relation is not None and months:
        for name, choice in undecided.items():
            date_sql = (columns or {}).get(name)
            verdict = date_sql and _month_verdict(con, relation, date_sql, months)
            if verdict:
                how, other = verdict
                _flip(choice, f"its {'second' if how == 'day' else 'first'} field is '{other}' on every row", how)
                choice.decided_by = "file"
    if locale:
        how = locale_order(locale)
        given = "the date order given" if locale.lower() in DATE_ORDERS else "the locale given"
        for choice in choices.values():
            if choice.undecided:
                _flip(choice, f"{given} ({locale}) writes dates {how}-first", how)
                choice.decided_by = "locale"


MIN_SORTED_STEPS = 5  # changes of date in row order that make a sorted column more than chance


def _sorted_verdict(con, relation: str, date_sql: str, choice: DateChoice) -> str | None:
    """ "day" | "month" when, in the rows' order (`rowid`), one reading of the dates only goes one way (up, or only
    down) over at least MIN_SORTED_STEPS changes and the other reading goes both ways; None otherwise."""
    readings = {("day" if _is_day_first(f) else "month"): f for f in (choice.format, _TWINS[choice.format])}
    sorted_readings = []
    for how, fmt in readings.items():
        up, down = con.execute(
            "SELECT count(*) FILTER (WHERE d > prev), count(*) FILTER (WHERE d < prev) FROM "
            "(SELECT d, lag(d) OVER (ORDER BY r) AS prev FROM "
            f"(SELECT rowid AS r, try_strptime({date_sql}, ?) AS d FROM {relation}) WHERE d IS NOT NULL) "
            "WHERE prev IS NOT NULL",
            [fmt],
        ).fetchone()
        if min(up, down) == 0 and max(up, down) >= MIN_SORTED_STEPS:
            sorted_readings.append(how)
        elif min(up, down) == 0:
            return None  # too few changes to tell, or unchanged: this reading proves nothing against the other
    return sorted_readings[0] if len(sorted_readings) == 1 else None


def _month_verdict(con, relation: str, date_sql: str, months: dict[str, str]) -> tuple[str, str] | None:
    """("day" | "month", the month column) when a month column equals the date's second (day-first) or first
    (month-first) field on every row where both are set, and not the other one."""
    field = f"regexp_extract({date_sql}, '^\\s*(\\d{{1,2}})\\D(\\d{{1,2}})\\D', ?)"
    for name, sql in months.items():
        month = f"try_cast({sql} AS INTEGER)"
        first, second, both = con.execute(
            f"SELECT count(*) FILTER (WHERE try_cast({field} AS INTEGER) = {month}), "
            f"count(*) FILTER (WHERE try_cast({field} AS INTEGER) = {month}), "
            f"count(*) FILTER (WHERE {month} IS NOT NULL AND try_cast({field} AS INTEGER) IS NOT NULL) "
            f"FROM {relation}",
            [1, 2, 1],
        ).fetchone()
        if both and second == both and first < both:
            return "day", name
        if both and first == both and second < both:
            return "month", name
    return None


DATE_ORDERS = {"dmy": "day", "mdy": "month"}  # what `--date-order` and the review page offer
MONTH_FIRST_LOCALES = ("en-us", "us", "en_us")


def locale_order(locale: str) -> str:
    """ "day" or "month": how a date order ("dmy", "mdy") or a locale ("de", "en-US") writes dates."""
    key = locale.strip().lower()
    if key in DATE_ORDERS:
        return DATE_ORDERS[key]
    return "month" if key in MONTH_FIRST_LOCALES else "day"


def _separator(fmt: str | None) -> str:
    match = re.search(r"%[dmY]([^%])", fmt or "")
    return match.group(1) if match else ""


def _order_verdict(con, relation: str, name: str, choice: DateChoice, choices: dict[str, DateChoice], columns):
    """("day" | "month", the other column) when one reading of `name` keeps it on one side of another
    date column in every row where both are set and the other reading does not."""
    twin = _TWINS[choice.format]
    readings = {("day" if _is_day_first(f) else "month"): f for f in (choice.format, twin)}
    for other, oc in choices.items():
        if other == name or oc.format is None:
            continue
        consistent = {}
        for how, fmt in readings.items():
            # An undecided neighbour is read the same way: one export writes its dates one way.
            other_fmt = oc.format
            if oc.undecided and (_is_day_first(other_fmt) != (how == "day")):
                other_fmt = _TWINS[other_fmt]
            after, before, both = con.execute(
                f"SELECT count(*) FILTER (WHERE a >= b), count(*) FILTER (WHERE a <= b), count(*) FROM "
                f"(SELECT try_strptime({columns.get(name, _ident(name))}, ?)::DATE AS a, "
                f"try_strptime({columns.get(other, _ident(other))}, ?)::DATE AS b "
                f"FROM {relation}) WHERE a IS NOT NULL AND b IS NOT NULL",
                [fmt, other_fmt],
            ).fetchone()
            consistent[how] = both > 0 and both in (after, before)
        if consistent["day"] != consistent["month"]:
            return ("day" if consistent["day"] else "month"), other
    return None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
