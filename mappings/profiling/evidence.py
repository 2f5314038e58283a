"""The profile's file-wide evidence, beyond one column at a time: date formats settled by the file's
other dates, the dates' order, and the grain (keys and what they determine), read from the sample table
`sg` (c0 … cN, trimmed, NULL for the null tokens)."""

from __future__ import annotations

import numpy as np

from mappings.intake.duck import quote_ident
from mappings.profiling.dates import DateChoice, column_date_evidence, settle_with_file
from mappings.profiling.grain import file_grain

MAX_DATE_COLUMNS = 8  # pairs compared for the dates' order
DATE_ORDER_NOISE = 0.005  # rows allowed out of order (data entry slips) before the order says nothing
# Profile types whose values can identify something (a key or a reference).
KEYISH = ("identifier", "integer", "text", "category", "email", "phone")
_CHOICE_FIELDS = (
    "format", "has_time", "day_first", "decided_by", "undecided", "alternatives", "reason", "candidates",
)  # fmt: skip


def clean_view(con, columns: list[str], null_tokens) -> None:
    """`sg`: the sample `s` by position (c0 … cN), trimmed, with the null tokens as NULL, and a column's own
    header as NULL too: files joined end to end (a month per file) repeat their header line among the rows."""
    cells = ", ".join(
        f"CASE WHEN list_contains($1, trim({quote_ident(c)})) OR trim({quote_ident(c)}) = $2[{i + 1}] THEN NULL "
        f"ELSE trim({quote_ident(c)}) END AS c{i}"
        for i, c in enumerate(columns)
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE sg AS SELECT {cells} FROM s", [list(null_tokens), [c.strip() for c in columns]]
    )


def date_choice(con, index: int, without: list[str] | None = None) -> DateChoice | None:
    """The date format column `index` is written in, from all its sampled values (profiling.dates); the values
    `without` (a pending row's "Pending") read as no date."""
    if without:
        return column_date_evidence(
            con, "sg", f"(CASE WHEN list_contains($1, c{index}) THEN NULL ELSE c{index} END)", [without]
        )
    return column_date_evidence(con, "sg", f"c{index}")


def date_profile(con, profile: dict, index: int, choice: DateChoice) -> None:
    profile.update(
        type="datetime" if choice.has_time else "date",
        format=choice.format,
        ambiguous=choice.undecided,
        date_evidence=choice.as_json(),
    )
    profile["alternatives"] = list(choice.alternatives)
    if choice.undecided:
        profile["notes"].append(choice.reason)
    _date_bounds(con, profile, index)


def _date_bounds(con, profile: dict, index: int) -> None:
    fmt = profile["format"]
    bounds = con.execute(
        f"SELECT min(try_strptime(c{index}, ?)), max(try_strptime(c{index}, ?)) FROM sg", [fmt, fmt]
    ).fetchone()
    cut = 19 if profile["type"] == "datetime" else 10
    profile["min"], profile["max"] = (b.isoformat(sep=" ")[:cut] if b else None for b in bounds)


def settle_dates(con, profiles: list[dict], locale: str | None = None) -> None:
    """Day/month left open by a column's own values, settled by the file's other dates, else by the date
    order or locale the user gave (profiling.dates)."""
    index = {p["name"]: i for i, p in enumerate(profiles) if p.get("date_evidence")}
    choices = {
        name: DateChoice(**{k: v for k, v in profiles[i]["date_evidence"].items() if k in _CHOICE_FIELDS})
        for name, i in index.items()
    }
    if not any(c.undecided for c in choices.values()):
        return
    # Whole numbers 1 to 12 in some column: a month number that may say which field of the dates is the month.
    months = {
        p["name"]: f"c{i}"
        for i, p in enumerate(profiles)
        if p["type"] == "integer"
        and (p.get("distinct") or 0) >= 2
        and (p.get("min") or 0) >= 1
        and (p.get("max") or 99) <= 12
    }
    settle_with_file(
        choices,
        con=con,
        relation="sg",
        columns={name: f"c{i}" for name, i in index.items()},
        locale=locale,
        months=months,
    )
    for name, choice in choices.items():
        profile = profiles[index[name]]
        if choice.format != profile["format"] or choice.undecided != profile["ambiguous"]:
            profile["notes"] = [n for n in profile["notes"] if n != profile["date_evidence"]["reason"]]
            profile.update(format=choice.format, ambiguous=choice.undecided, alternatives=choice.alternatives)
            profile["date_evidence"] = {**profile["date_evidence"], **choice.as_json()}
            _date_bounds(con, profile, index[name])


def _day(i: int, pa: dict, pb: dict) -> str:
    """d{i}, cut to its day when either column of the pair holds days only."""
    return f"d{i}::DATE" if "date" in (pa["type"], pb["type"]) else f"d{i}"


def date_order(con, profiles: list[dict]) -> dict[str, list[str]]:
    """For each date column, the other date columns it is not after (on all but a few rows where both
    are set): {"Order Date": ["Ship Date"]}. The proposer reads the event's own date from it."""
    dates = [(i, p) for i, p in enumerate(profiles) if p["type"] in ("date", "datetime") and p.get("format")][
        :MAX_DATE_COLUMNS
    ]
    if len(dates) < 2:
        return {}
    values = ", ".join(f"try_strptime(c{i}, ?)::TIMESTAMP AS d{i}" for i, _ in dates)
    params = [p["format"] for _, p in dates]
    pairs = [(a, b) for a in dates for b in dates if a[0] != b[0]]
    # A date beside a timestamp is compared by day: a booking on the day of a 09:15 payment is not before it.
    counts = ", ".join(
        f"count(*) FILTER (WHERE {_day(a, pa, pb)} > {_day(b, pa, pb)}), "
        f"count(*) FILTER (WHERE d{a} IS NOT NULL AND d{b} IS NOT NULL)"
        for (a, pa), (b, pb) in pairs
    )
    row = con.execute(f"SELECT {counts} FROM (SELECT {values} FROM sg)", params).fetchone()
    before: dict[str, list[str]] = {}
    for n, ((_, pa), (_, pb)) in enumerate(pairs):
        after, both = row[2 * n], row[2 * n + 1]
        if both and after <= DATE_ORDER_NOISE * both:
            before.setdefault(pa["name"], []).append(pb["name"])
    return before


def grain(con, profiles: list[dict]) -> dict:
    """Keys and dependencies of the profiled rows (profiling.grain) and the dates' order, for the proposer."""
    candidates = [i for i, p in enumerate(profiles) if p["type"] in KEYISH and p["avg_length"] <= 64]
    document = file_grain(con, "sg", len(profiles), candidates).as_json([p["name"] for p in profiles])
    document["date_order"] = date_order(con, profiles)
    document["per_date"] = per_date(con, profiles, document)
    document["arithmetic"] = arithmetic(con, profiles, document.get("row_key") or [])
    document["balances"] = balances(con, profiles)
    document["summary_rows"] = summary_rows(con, profiles)
    document["minor_units"] = minor_units(con, profiles, document.get("row_key") or [])
    document["fee_sums"] = fee_sums(con, profiles)
    document["negative_share"] = negative_shares(con, profiles)
    return document


SCIENTIFIC_SQL = "[-+]?[0-9]+([.][0-9]+)?[eE][-+]?[0-9]+"
MAX_NUMBER_COLUMNS = 12  # number columns whose products and sums are checked
MAX_ARITHMETIC_ROWS = 5000  # rows read for them: a relation that holds row by row shows on any of them
ARITHMETIC_SHARE = 0.95  # of the rows where all three are set, for "c = a × b" or "c = a + b" to hold


def _number_sql(i: int, profile: dict) -> str:
    """Column c{i} as a DuckDB DOUBLE in its locale (decimal commas when "de"), currency marks dropped; NULL if none."""
    text = f"c{i}"
    if profile.get("locale") == "de":
        text = f"replace(replace({text}, '.', ''), ',', '.')"
    else:
        text = f"replace({text}, ',', '')"
    plain = f"try_cast(regexp_replace({text}, '[^0-9.+-]', '', 'g') AS DOUBLE)"
    # "3.76E+02" (a connector's float) keeps its exponent; any other letter is a mark to drop.
    scientific = f"regexp_full_match(trim(c{i}), '{SCIENTIFIC_SQL}')"
    return f"(CASE WHEN {scientific} THEN try_cast(trim(c{i}) AS DOUBLE) ELSE {plain} END)"


def _number_table(con, numbers: list[tuple[int, dict]]) -> np.ndarray:
    """The first rows of the (index, profile) number columns as floats, one column each; NULL -> nan."""
    rows = con.execute(
        f"SELECT {', '.join(_number_sql(i, p) for i, p in numbers)} FROM sg LIMIT {MAX_ARITHMETIC_ROWS}"
    ).fetchall()
    return np.array(rows, dtype=float).reshape(len(rows), len(numbers))


def arithmetic(con, profiles: list[dict], row_key: list[str] = ()) -> dict[str, list[list[str]]]:
    """Which number columns the others make, row by row: {"products": [[c, a, b]], "sums": [[c, a, b]]} where
    c = a × b (a line total: quantity × unit price) or c = a + b (a total: the net plus its tax), to the cent,
    on nearly every row. A column with one value (a constant 1) or the rows' own key (an id, a row number) makes
    nothing; other columns unique on every row do (a small file's totals and quantities all differ)."""
    numbers = [
        (i, p)
        for i, p in enumerate(profiles)
        if p["type"] in ("integer", "decimal") and (p.get("distinct") or 0) >= 2 and p["name"] not in row_key
    ][:MAX_NUMBER_COLUMNS]
    found: dict[str, list[list[str]]] = {"products": [], "sums": []}
    if len(numbers) < 3:
        return found

    table = _number_table(con, numbers)
    names = [p["name"] for _, p in numbers]
    with np.errstate(invalid="ignore", over="ignore"):
        for x in range(len(numbers)):
            for y in range(x + 1, len(numbers)):
                a, b = table[:, x], table[:, y]
                for z in range(len(numbers)):
                    if z in (x, y):
                        continue
                    c = table[:, z]
                    both = ~(np.isnan(a) | np.isnan(b) | np.isnan(c))
                    if both.sum() < 3:
                        continue
                    near = 0.011 + 0.0005 * np.abs(c)
                    product = (np.abs(a * b - c) <= near) & both
                    added = (np.abs(a + b - c) <= near) & both & (a != 0) & (b != 0)
                    for kind, holds in (("products", product), ("sums", added)):
                        if holds.sum() >= ARITHMETIC_SHARE * both.sum():
                            found[kind].append([names[z], names[x], names[y]])
    return found


def fee_sums(con, profiles: list[dict]) -> list[dict[str, str]]:
    """A payment processor's rows: [{"gross": g, "fee": f, "net": n}] where the three add up to the cent on nearly
    every row, gross = net + fee (or net = gross + fee, a fee written below zero). The fee is the addend with
    the smaller values (none on a transfer); its sign says which of the other two is the sum.
    Unlike `arithmetic`, a column unique on every row takes part (the gross of a few payments differs on
    each) and a zero addend counts; ids (whole numbers that look like keys) do not."""
    numbers = [
        (i, p)
        for i, p in enumerate(profiles)
        if p["type"] in ("integer", "decimal") and (p.get("distinct") or 0) >= 2 and not p.get("id_like")
    ][:MAX_NUMBER_COLUMNS]
    if len(numbers) < 3:
        return []
    table = _number_table(con, numbers)
    names = [p["name"] for _, p in numbers]
    found = []
    with np.errstate(invalid="ignore", over="ignore"):
        for x in range(len(numbers)):
            for y in range(x + 1, len(numbers)):
                for z in range(len(numbers)):
                    if z in (x, y):
                        continue
                    a, b, c = table[:, x], table[:, y], table[:, z]
                    both = ~(np.isnan(a) | np.isnan(b) | np.isnan(c))
                    if both.sum() < 2:
                        continue
                    holds = (np.abs(a + b - c) <= 0.006 + 1e-9 * np.abs(c)) & both
                    if holds.sum() < ARITHMETIC_SHARE * both.sum():
                        continue
                    # The fee: the smaller addend (not zero on every row); the other two differ by it.
                    fee, other = (x, y) if np.abs(a[both]).mean() < np.abs(b[both]).mean() else (y, x)
                    f = table[both, fee]
                    if (f == 0).all():
                        continue
                    if np.abs(f).mean() >= np.abs(table[both, other]).mean():
                        continue
                    negative = (f < 0).sum() > (f > 0).sum()
                    gross, net = (other, z) if negative else (z, other)
                    found.append({"gross": names[gross], "fee": names[fee], "net": names[net]})
    return found


BALANCE_SHARE = 0.9  # of the steps between rows where a running balance moves by the row's amount
MIN_BALANCE_STEPS = 2


def _moves_by(balance: np.ndarray, amount: np.ndarray) -> bool:
    """balance[i] = balance[i-1] + amount[i] on nearly every step, in file order or newest first."""
    near = 0.006 + 1e-9 * np.abs(balance[1:])  # to the cent: a large balance (an id) gives no slack
    for step, moved in ((balance[1:] - balance[:-1], amount[1:]), (balance[:-1] - balance[1:], amount[:-1])):
        steps = ~np.isnan(step)  # a row without the amount is a step it does not explain
        holds = (np.abs(step - moved) <= near) & steps & ~np.isnan(moved) & (moved != 0)
        # A row number beside a constant 1 is no balance: the amounts it moves by must differ.
        if (
            holds.sum() >= MIN_BALANCE_STEPS
            and holds.sum() >= BALANCE_SHARE * steps.sum()
            and len(set(moved[holds])) > 1
        ):
            return True
    return False


def balances(con, profiles: list[dict]) -> list[dict[str, str]]:
    """A statement's running balance, read from the rows in file order: [{"balance": b, "amount": a}] where
    balance[i] = balance[i-1] + amount[i] (a signed amount), or [{"balance": b, "credit": c, "debit": d}] where it
    moves by credit − debit and one of the two is set on each row; in file order or newest first. Such a column
    is the account's balance, not an amount, and the one it moves by is each row's money in or out."""
    numbers = [(i, p) for i, p in enumerate(profiles) if p["type"] in ("integer", "decimal")][:MAX_NUMBER_COLUMNS]
    if len(numbers) < 2:
        return []
    table = _number_table(con, numbers)
    if len(table) <= MIN_BALANCE_STEPS:
        return []
    names = [p["name"] for _, p in numbers]
    markers = _two_valued(con, profiles)
    found: list[dict[str, str]] = []
    with np.errstate(invalid="ignore", over="ignore"):
        for z in range(len(numbers)):
            b = table[:, z]
            if len(set(b[~np.isnan(b)])) < 2:
                continue
            others = [x for x in range(len(numbers)) if x != z]
            single = next((x for x in others if _moves_by(b, table[:, x])), None)
            if single is not None:
                found.append({"balance": names[z], "amount": names[single]})
                continue
            signed = _marked_move(b, [(names[x], table[:, x]) for x in others], markers)
            if signed:
                found.append({"balance": names[z], **signed})
                continue
            for x in others:
                for y in others:
                    c, d = table[:, x], table[:, y]
                    one_set = np.isnan(c) != np.isnan(d)
                    if x == y or one_set.sum() < BALANCE_SHARE * len(table):
                        continue
                    if _moves_by(b, np.nan_to_num(c) - np.nan_to_num(d)):
                        found.append({"balance": names[z], "credit": names[x], "debit": names[y]})
                        break
                else:
                    continue
                break
    return found


MAX_MARKERS = 4  # two-valued columns tried as the direction of an unsigned amount


def _two_valued(con, profiles: list[dict]) -> list[tuple[str, np.ndarray]]:
    """[(name, values)] of the columns set on every row with exactly two values (D / C, Af / Bij, Uscita /
    Entrata), in the rows' order: each may say whether a row's unsigned amount left or entered the account."""
    picked = [
        (i, p)
        for i, p in enumerate(profiles)
        if p["type"] in ("category", "identifier", "text") and p.get("distinct") == 2 and not p.get("nulls")
    ][:MAX_MARKERS]
    if not picked:
        return []
    rows = con.execute(f"SELECT {', '.join(f'c{i}' for i, _ in picked)} FROM sg LIMIT {MAX_ARITHMETIC_ROWS}").fetchall()
    return [(p["name"], np.array([r[n] for r in rows], dtype=object)) for n, (_, p) in enumerate(picked)]


def _marked_move(
    balance: np.ndarray, amounts: list[tuple[str, np.ndarray]], markers: list[tuple[str, np.ndarray]]
) -> dict[str, str] | None:
    """{"amount", "marker", "out", "in"}: an amount never below zero whose sign, flipped on the rows of one of a
    two-valued column's values, makes the balance move by it: that column is the direction, that value money out."""
    for name, amount in amounts:
        # A constant 1 signed by a line's two products "moves" a line number 1, 2, 1, 2: amounts must differ.
        if np.nanmin(amount, initial=0.0) < 0 or len(set(amount[~np.isnan(amount)])) < 2:
            continue
        for marker, values in markers:
            if len(values) != len(amount):
                continue
            for out in sorted({str(v) for v in values}):
                sign = np.where(values.astype(str) == out, -1.0, 1.0)
                if _moves_by(balance, amount * sign):
                    into = next(str(v) for v in values if str(v) != out)
                    return {"amount": name, "marker": marker, "out": out, "in": into}
    return None


def negative_shares(con, profiles: list[dict]) -> dict[str, float]:
    """{number column: the share of its values below zero}, for the number columns that have any: money that
    is mostly negative leaves its owner (a statement's spending), money received is positive."""
    numbers = [
        (i, p) for i, p in enumerate(profiles) if p["type"] in ("integer", "decimal") and (p.get("min") or 0) < 0
    ]
    if not numbers:
        return {}
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE {_number_sql(i, p)} < 0) / count({_number_sql(i, p)})" for i, p in numbers)
        + " FROM sg"
    ).fetchone()
    return {p["name"]: round(float(share or 0), 4) for (_, p), share in zip(numbers, counts, strict=True)}


MAX_PER_DATE = 3  # date columns whose pairs with the repeating keys are counted


def per_date(con, profiles: list[dict], document: dict) -> dict[str, dict[str, int]]:
    """{key: {date column: distinct (key, date) pairs}} for the repeating key candidates: whether a product
    appears once per day (a stock level) or several times (events: sales, returns)."""
    index = {p["name"]: i for i, p in enumerate(profiles)}
    dates = [p["name"] for p in profiles if p["type"] in ("date", "datetime")][:MAX_PER_DATE]
    keys = [k for k, ev in document["keys"].items() if not ev["unique"] and ev["distinct"] >= 2]
    pairs = [(k, d) for k in keys for d in dates]
    if not pairs:
        return {}
    counts = con.execute(
        "SELECT " + ", ".join(f"count(DISTINCT (c{index[k]}, c{index[d]}))" for k, d in pairs) + " FROM sg"
    ).fetchone()
    result: dict[str, dict[str, int]] = {}
    for (k, d), n in zip(pairs, counts, strict=True):
        result.setdefault(k, {})[d] = int(n)
    return result


MAX_ROW_KINDS = 12  # distinct values of a column that may say what kind of row each row is
MIN_REFERENCED = 3  # rows that carry the reference, for "every movement has one" to mean anything


def summary_rows(con, profiles: list[dict]) -> dict[str, object] | None:
    """Rows of another kind among a statement's movements (an opening or closing balance, a turnover total):
    {"kind", "values", "reference", "rows"} when a reference unique where set (each movement's entry number) is
    on every row of some values of a column set on every row and on no row of its other values. Those other
    values' rows carry no movement's reference: the balance and total lines, not movements, when they are of two
    kinds at least (an opening and a closing line) and one of them is the file's first or last row. The column with
    the fewest values that splits the rows so is the kind; None when no column does."""
    references = [
        (i, p)
        for i, p in enumerate(profiles)
        if p["type"] in ("identifier", "integer")  # an entry number or code, not a name
        and all(any(ch.isdigit() for ch in str(t["value"])) for t in p.get("top") or [])
        and p.get("unique")
        and p.get("nulls")
        and (p.get("distinct") or 0) >= MIN_REFERENCED
    ]
    kinds = sorted(
        (
            (i, p)
            for i, p in enumerate(profiles)
            if p["type"] in ("category", "identifier", "integer")  # codes, not free text
            and not p.get("nulls")
            and 2 <= (p.get("distinct") or 0) <= MAX_ROW_KINDS
        ),
        key=lambda ip: (ip[1]["distinct"], ip[0]),
    )
    for r, reference in references:
        for k, kind in kinds:
            if k == r:
                continue
            groups = con.execute(f"SELECT trim(c{k}), count(c{r}), count(*) FROM sg GROUP BY 1 ORDER BY 1").fetchall()
            without = [str(v) for v, referenced, _ in groups if referenced == 0]
            kinds_referenced = [n for _, referenced, n in groups if referenced]
            # A kind repeats over the movements (20 on each): a value per row (a purpose text) is no kind.
            repeats = 0 < len(kinds_referenced) <= sum(kinds_referenced) / 2
            # Balance lines come at least as an opening and a closing one, and bracket the movements: two kinds
            # or more, one of them on the first or the last row (a standing order without a mandate is one kind).
            if len(without) < 2 or not repeats or not all(referenced in (0, n) for _, referenced, n in groups):
                continue
            (edge,) = con.execute(
                f"SELECT count(*) FROM sg WHERE c{r} IS NULL "
                "AND (rowid = (SELECT min(rowid) FROM sg) OR rowid = (SELECT max(rowid) FROM sg))"
            ).fetchone()
            if edge:
                rows = sum(n for v, referenced, n in groups if referenced == 0)
                return {"kind": kind["name"], "values": without, "reference": reference["name"], "rows": rows}
    return None


MINOR_UNIT = 100  # cents in a unit: the only minor unit read from values (a yen has none, and then no ratio holds)


def minor_units(con, profiles: list[dict], row_key: list[str] = ()) -> list[dict[str, str]]:
    """Whole-number columns that hold money in minor units (cents), by the file's own values: [{"column": m,
    "major": d}] where m = 100 × d on nearly every row (an amount in cents beside the same amount in units), or
    [{"column": m, "major": d, "by": q}] where d = q × m / 100 (a line total in units, a quantity and a unit
    price in cents). A header saying "cents" is no evidence here: only the arithmetic is."""
    numbers = [
        (i, p)
        for i, p in enumerate(profiles)
        if p["type"] in ("integer", "decimal") and (p.get("distinct") or 0) >= 2 and p["name"] not in row_key
    ][:MAX_NUMBER_COLUMNS]
    whole = [n for n, (_, p) in enumerate(numbers) if p["type"] == "integer"]
    if not whole or len(numbers) < 2:
        return []
    table = _number_table(con, numbers)
    names = [p["name"] for _, p in numbers]
    found: list[dict[str, str]] = []

    def holds(made: np.ndarray, target: np.ndarray) -> bool:
        both = ~(np.isnan(made) | np.isnan(target))
        moving = both & (target != 0)
        if moving.sum() < 3:
            return False
        near = 0.006 + 0.0005 * np.abs(target)
        return bool(((np.abs(made - target) <= near) & both).sum() >= ARITHMETIC_SHARE * both.sum())

    with np.errstate(invalid="ignore", over="ignore"):
        for m in whole:
            minor = table[:, m]
            for d in range(len(numbers)):
                if d == m:
                    continue
                major = table[:, d]
                # The same money twice, in cents and in units (not one column equal to the other).
                if holds(minor / MINOR_UNIT, major) and not holds(minor, major):
                    found.append({"column": names[m], "major": names[d]})
                    break
                by = next(
                    (
                        q
                        for q in range(len(numbers))
                        if q not in (m, d)
                        and holds(table[:, q] * minor / MINOR_UNIT, major)
                        and not holds(table[:, q] * minor, major)
                    ),
                    None,
                )
                if by is not None:
                    found.append({"column": names[m], "major": names[d], "by": names[by]})
                    break
    # Both factors whole numbers (a quantity and a price in cents) make the same total: the price is the larger,
    # a count of units is small.
    median = {names[n]: float(np.nanmedian(table[:, n])) for n in whole if not np.isnan(table[:, n]).all()}
    pairs = {(f["column"], f["by"]) for f in found if "by" in f}
    return [
        f
        for f in found
        if "by" not in f or (f["by"], f["column"]) not in pairs or median.get(f["column"], 0) > median.get(f["by"], 0)
    ]
