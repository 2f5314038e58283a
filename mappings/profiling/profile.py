"""Profiling an upload: per column the inferred type, its format, and the evidence the proposer uses.

DuckDB reads a sample (the whole file when it is small, its first SAMPLE_BYTES otherwise) as text;
aggregates (nulls, distinct counts, top values) and date-format trials run in DuckDB over the whole
sample, and the finer checks (number locale, boolean vocabulary, e-mails, phones, PII) run in Python on
the distinct values only, so the cost does not grow with the file.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mappings.intake.dialect import header_width, positional_read_csv_options
from mappings.intake.duck import quote_ident, ragged_sql
from mappings.intake.workbook import WORKBOOK_SUFFIXES, WorkbookUnreadable, workbook_to_csv
from mappings.profiling import evidence
from mappings.profiling.dates import looks_like_dates
from mappings.profiling.figures import apply_file_figures, figures_relation
from mappings.profiling.pii import detect_pii, is_email, is_phone
from mappings.profiling.quickviz import quickviz_specs
from mappings.profiling.sample import readable_csv
from mappings.proposer.text import normalize_header, normalize_text

DISTINCT_LIMIT = 1000  # distinct values examined per column in Python
TOP_VALUES = 5
SAMPLE_VALUES = 5

# Values exports write for "nothing".
NULL_TOKENS = ("", "NULL", "null", "Null", "None", "none", "N/A", "n/a", "NA", "#N/A", "nan", "NaN", "-", "--")

DEFAULT_DIALECT = {"delimiter": ",", "quote": '"', "encoding": "utf-8", "header": True}

_CURRENCY = r"(?:[$€£¥₹]|USD|EUR|GBP|CHF|CAD|AUD|JPY|SEK|NOK|DKK|PLN|MXN|BRL|INR|kr|Fr\.?)"
_NUMBER = re.compile(
    rf"^(?P<neg1>[-+(])?\s*{_CURRENCY}?\s*(?P<neg2>-)?\s*(?P<body>\d[\d.,' \u00a0\u202f]*\d|\d)\s*"
    rf"(?P<pct>%)?\s*{_CURRENCY}?\s*(?P<neg3>[-)])?$"
)
# Excel's accounting format writes zero as a currency mark and a dash (" $-   ", "€ -"): a number, not a word.
_ACCOUNTING_ZERO = re.compile(rf"^\s*{_CURRENCY}\s*-+\s*$|^\s*-+\s*{_CURRENCY}\s*$")
_INTEGER = re.compile(r"^[-+]?\d+$")
_SCIENTIFIC = re.compile(r"^[-+]?\d+(?:\.\d+)?[eE][-+]?\d+$")
_GROUPING = re.compile(r"[' \u00a0\u202f]")
_BOOL_PAIRS = (
    ({"true"}, {"false"}),
    ({"yes"}, {"no"}),
    ({"y"}, {"n"}),
    ({"t"}, {"f"}),
    ({"1"}, {"0"}),
    ({"ja", "j"}, {"nein", "n"}),
    ({"oui"}, {"non"}),
    ({"si", "sí"}, {"no"}),
    ({"wahr"}, {"falsch"}),
    ({"x"}, {""}),
)
_CODE_LIKE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-./#:]*$")


class ProfileError(Exception):
    """The file cannot be read as a table (the message says why)."""


@dataclass
class NumberInfo:
    locale: str | None  # "en", "de", or None when no value shows its separators
    ambiguous: bool
    currency: bool
    percent: bool
    negative_parens: bool
    numbers: list[float]  # the values read (as en unless the column proved de), to take min and max from


def parse_number_text(value: str) -> tuple[float, str | None] | None:
    """(number, locale the text proves or None) for a number written in an export, else None."""
    if _ACCOUNTING_ZERO.match(value):
        return 0.0, None
    if _SCIENTIFIC.match(value.strip()):
        # A connector's float written by its warehouse ("3.76E+02" = 376): its point is a decimal point.
        return float(value), "en" if "." in value else None
    match = _NUMBER.match(value.strip())
    if not match:
        return None
    body = _GROUPING.sub("", match["body"])
    locale: str | None = None
    if "." in body and "," in body:
        locale = "en" if body.rfind(".") > body.rfind(",") else "de"
    elif "," in body or "." in body:
        # One kind of separator: used twice it groups thousands; once, before other than three digits, it
        # is the decimal point ("," in de, "." in en); once before three digits it proves nothing.
        separator = "," if "," in body else "."
        grouping, decimal = ("en", "de") if separator == "," else ("de", "en")
        parts = body.split(separator)
        if len(parts) > 2:
            locale = grouping
        elif len(parts[1]) != 3:
            locale = decimal
    # Without proof either way ("1,234"), read as en; the column's other values decide (_number_info).
    text = body.replace(".", "").replace(",", ".") if locale == "de" else body.replace(",", "")
    try:
        number = float(text)
    except ValueError:
        return None
    if match["neg1"] in ("-", "(") or match["neg2"] or match["neg3"]:
        number = -number
    if match["pct"]:
        number /= 100
    return number, locale


def _number_info(values: list[str]) -> NumberInfo | None:
    """How a column writes its numbers, if (nearly) all its distinct values are numbers."""
    votes = {"en": 0, "de": 0}
    ambiguous = currency = percent = parens = False
    bad = 0
    numbers = []
    for value in values:
        parsed = parse_number_text(value)
        if parsed is None:
            bad += 1
            continue
        number, locale = parsed
        numbers.append(number)
        if locale:
            votes[locale] += 1
        elif re.search(r"\d[.,]\d{3}(?!\d)", value):
            ambiguous = True
        currency = currency or bool(re.search(_CURRENCY, value))
        percent = percent or "%" in value
        parens = parens or value.strip().startswith("(")
    if not values or bad > max(0, len(values) * 0.02):
        return None
    if votes["en"] and votes["de"]:
        locale = "en" if votes["en"] >= votes["de"] else "de"
        ambiguous = True
    elif votes["en"] or votes["de"]:
        locale = "en" if votes["en"] else "de"
        ambiguous = False
    else:
        locale = None
    return NumberInfo(locale, ambiguous, currency, percent, parens, numbers)


def _bool_vocabulary(values: list[str]) -> tuple[list[str], list[str]] | None:
    if len(values) > 2:
        return None
    lowered = {normalize_text(v).strip() for v in values}
    if not lowered or len(lowered) > 2:
        return None
    for true_set, false_set in _BOOL_PAIRS:
        if lowered <= (true_set | false_set) and lowered & true_set:
            trues = sorted(v for v in values if normalize_text(v).strip() in true_set)
            falses = sorted(v for v in values if normalize_text(v).strip() in false_set)
            return trues, falses
    return None


def open_sample(
    con: duckdb.DuckDBPyConnection, csv_path: str, dialect: dict, *, sampled: bool
) -> tuple[list[str], dict | None]:
    """Load the CSV's text into table `s` of `con`: (column names as the header gives them, ragged rows).

    Rows with more fields than the header (an unquoted delimiter inside a value, as in Northwind's
    addresses "Rua do Paço, 67") are left out of `s`, so no value is profiled under the wrong column,
    and described instead: {"rows": how many, "examples": their row numbers (header = row 1; only when
    the whole file was read), "header_fields", "max_fields", "sampled"}; None when there are none.
    """
    delimiter = dialect.get("delimiter") or ","
    quote = dialect.get("quote") or '"'
    header = dialect.get("header", True)
    sniffed = (
        "read_csv(?, delim = ?, quote = ?, escape = ?, header = ?, all_varchar = true, null_padding = true, "
        "ignore_errors = ?, strict_mode = false)"
    )
    params = [csv_path, delimiter, quote, quote, bool(header), sampled]
    try:
        names = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {sniffed}", params).fetchall()]
        width = header_width(csv_path, dialect) if header else None
        if not width or width > len(names):
            con.execute(f"CREATE TABLE s AS SELECT * FROM {sniffed}", params)
            return [row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE s)").fetchall()], None
        names = names[:width]  # DuckDB names the extra fields of ragged rows as columns of their own
        options = positional_read_csv_options(dialect, width)
        bound = ", ".join(f"{key} := ?" for key in options)
        con.execute(
            f"CREATE TEMP TABLE raw AS SELECT row_number() OVER () + 1 AS __row, * FROM read_csv(?, {bound}, "
            "ignore_errors = ?)",
            [csv_path, *{**options, "parallel": False}.values(), sampled],  # a sample: serial is as fast
        )
    except duckdb.Error as exc:
        raise ProfileError(f"could not read the file as a table: {str(exc).splitlines()[0]}") from exc
    is_ragged, fields = ragged_sql(width)
    selected = ", ".join(f"c{i} AS {quote_ident(name)}" for i, name in enumerate(names))
    con.execute(f"CREATE TABLE s AS SELECT {selected} FROM raw WHERE NOT ({is_ragged}) ORDER BY __row")
    count, examples, max_fields = con.execute(
        f"SELECT count(*), list(__row ORDER BY __row)[1:10], max({fields}) FROM raw WHERE {is_ragged}"
    ).fetchone()
    con.execute("DROP TABLE raw")
    ragged = None
    if count:
        ragged = {
            "rows": count,
            "examples": [] if sampled else examples,
            "header_fields": width,
            "max_fields": max_fields,
            "sampled": sampled,
        }
    return names, ragged


def _column_stats(con, columns: list[str]) -> dict[int, dict]:
    """Every column's value counts in one pass over the sample (UNPIVOT, then one GROUP BY).

    {column index: {"nulls", "distinct", "avg_len", "null_tokens", "top": [(value, count)] most frequent
    first, at most DISTINCT_LIMIT}}. Columns are addressed by position (`i`), never by header text.
    """
    if not columns:
        return {}
    renamed = ", ".join(f"coalesce(trim({quote_ident(c)}), '') AS c{i}" for i, c in enumerate(columns))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE g AS WITH r AS (SELECT {renamed} FROM s) "
        "SELECT CAST(substr(c, 2) AS INTEGER) AS i, v, count(*) AS n, "
        "list_contains($1, v) OR v = $2[CAST(substr(c, 2) AS INTEGER) + 1] AS is_null "
        "FROM (UNPIVOT r ON COLUMNS(*) INTO NAME c VALUE v) GROUP BY ALL",
        [list(NULL_TOKENS), [c.strip() for c in columns]],
    )
    stats = {i: {"nulls": 0, "distinct": 0, "avg_len": None, "null_tokens": [], "top": []} for i in range(len(columns))}
    stats |= {
        i: {"nulls": int(nulls), "distinct": distinct, "avg_len": avg_len, "null_tokens": tokens, "top": []}
        for i, nulls, distinct, avg_len, tokens in con.execute(
            "SELECT i, coalesce(sum(n) FILTER (WHERE is_null), 0), count(*) FILTER (WHERE NOT is_null), "
            "sum(length(v) * n) FILTER (WHERE NOT is_null) / nullif(sum(n) FILTER (WHERE NOT is_null), 0), "
            "coalesce(list(v ORDER BY v) FILTER (WHERE is_null AND v <> ''), []) FROM g GROUP BY i"
        ).fetchall()
    }
    for i, v, n in con.execute(
        "SELECT i, v, n FROM g WHERE NOT is_null "
        f"QUALIFY row_number() OVER (PARTITION BY i ORDER BY n DESC, v) <= {DISTINCT_LIMIT} ORDER BY i, n DESC, v"
    ).fetchall():
        stats[i]["top"].append((v, n))
    return stats


def _column_profile(con, column: str, header_norm: str, rows: int, stats: dict, index: int) -> dict:
    null_count, distinct, avg_len = stats["nulls"], stats["distinct"], stats["avg_len"]
    null_tokens, top_rows = stats["null_tokens"], stats["top"]
    nonnull = rows - null_count
    values = [v for v, _ in top_rows]
    profile: dict = {
        "name": column,
        "type": "empty",
        "null_share": round(null_count / rows, 4) if rows else 0.0,
        "nulls": null_count,
        "null_tokens": list(null_tokens),
        "distinct": distinct,
        "unique": bool(nonnull) and distinct == nonnull,
        "avg_length": round(avg_len or 0, 1),
        "top": [{"value": v, "count": n} for v, n in top_rows[:TOP_VALUES]],
        "samples": values[:SAMPLE_VALUES] if distinct <= TOP_VALUES else _spread(values, SAMPLE_VALUES),
        "min": None,
        "max": None,
        "pii": None,
        "notes": [],
        "id_like": False,
    }
    if not values:
        return profile
    _infer_type(con, profile, column, values, nonnull, index)
    profile["pii"] = detect_pii(header=column, values=values, normalized_header=header_norm)
    return profile


def _spread(values: list[str], n: int) -> list[str]:
    if len(values) <= n:
        return values
    step = len(values) / n
    return [values[int(i * step)] for i in range(n)]


MAX_PLACEHOLDERS = 2  # distinct words without a digit that a date column may hold for "no date yet"
MIN_DATES = 5  # distinct dates beside them for the column to be read as dates at all


def _date_placeholders(values: list[str]) -> list[str]:
    """The one or two words without a digit among a column's dates ("Pending" on a card's unposted rows):
    a date is written with digits, so such a word stands for a date not there yet."""
    words = [v for v in values if not any(ch.isdigit() for ch in v)]
    if 0 < len(words) <= MAX_PLACEHOLDERS and len(values) - len(words) >= MIN_DATES:
        return words
    return []


def _placeholders_are_empty(profile: dict, words: list[str], nonnull: int) -> None:
    """The placeholder words count as empty cells: null tokens the mapping turns into no date."""
    counts = {t["value"]: t["count"] for t in profile["top"]}
    empty = sum(counts.get(w, 0) for w in words)
    rows = nonnull + profile["nulls"]
    profile["null_tokens"] = [*profile["null_tokens"], *words]
    profile["nulls"] += empty
    profile["null_share"] = round(profile["nulls"] / rows, 4) if rows else 0.0
    profile["distinct"] -= len(words)
    profile["top"] = [t for t in profile["top"] if t["value"] not in words]
    shown = ", ".join(f"'{w}'" for w in words)
    profile["notes"].append(f"{shown} on {empty} rows is no date (a date is written with digits): read as empty")


def _infer_type(con, profile: dict, column: str, values: list[str], nonnull: int, index: int) -> None:
    """Fill type, format/locale/vocabulary, min/max and id_like from the distinct values."""
    distinct = profile["distinct"]
    booleans = _bool_vocabulary(values)
    if booleans and not (set(values) <= {"1", "0"} and distinct == 1):
        profile.update(type="boolean", true_values=booleans[0], false_values=booleans[1])
        return
    if looks_like_dates(values):
        words = _date_placeholders(values)
        choice = evidence.date_choice(con, index, words)
        if (
            choice
            and not choice.implausible
            and not (
                choice.format == "%Y%m%d" and not all(v.startswith(("19", "20")) for v in values if v not in words)
            )
        ):
            evidence.date_profile(con, profile, index, choice)
            if words:
                _placeholders_are_empty(profile, words, nonnull)
            return
    whole = _whole_numbers(values)
    if whole is not None:
        numbers, written = whole
        profile.update(type="integer", min=min(numbers), max=max(numbers))
        if written:
            # "14911.0" (a spreadsheet's float) or "1 957" (digits grouped by spaces): whole numbers all the same.
            profile["written_as"] = written
            profile["notes"].append(_WRITTEN_NOTES[written])
        # Leading zeros (postal codes, "00042") are codes, not quantities.
        if any(len(v) > 1 and _INTEGER.match(v) and v.lstrip("+-").startswith("0") for v in values):
            profile.update(type="identifier", leading_zeros=True)
        digits = [str(n) for n in numbers] if written else values
        profile["id_like"] = profile["unique"] or (distinct > 2 and min(numbers) >= 0 and _looks_like_key(digits))
        return
    if _codes_among_numbers(values):
        # 536365 … and C536379: numbers and codes that carry the same digits are one column of codes (an
        # invoice number whose cancellations are prefixed), not amounts with a few unreadable values.
        profile.update(type="identifier", id_like=True)
        return
    numbers = _number_info(values)
    if numbers is not None:
        floats = numbers.numbers
        if numbers.locale == "de":
            floats = [(parse_number_text(v.replace(".", "").replace(",", ".")) or (0, None))[0] for v in values]
        profile.update(
            type="decimal",
            locale=numbers.locale or "en",
            locale_ambiguous=numbers.ambiguous or numbers.locale is None and any("," in v for v in values),
            currency_symbols=numbers.currency,
            percent=numbers.percent,
            negative_parens=numbers.negative_parens,
            min=min(floats) if floats else None,
            max=max(floats) if floats else None,
        )
        if numbers.ambiguous:
            profile["notes"].append("separators read both ways (1,234 or 1.234): assumed " + profile["locale"])
        return
    emails = sum(1 for v in values if is_email(v))
    if emails >= 0.9 * len(values):
        profile.update(type="email")
        return
    phones = sum(1 for v in values if is_phone(v))
    if phones >= 0.8 * len(values):
        profile.update(type="phone")
        return
    code_like = all(_CODE_LIKE.match(v) and len(v) <= 40 for v in values)
    if code_like and (profile["unique"] or _looks_like_key(values)):
        profile.update(type="identifier", id_like=True)
        return
    profile["min"], profile["max"] = min(values), max(values)
    if distinct <= max(20, min(50, nonnull // 5)) and distinct < nonnull and profile["avg_length"] < 40:
        profile["type"] = "category"
    elif profile["avg_length"] > 60:
        profile["type"] = "free_text"
    else:
        profile["type"] = "text"


def _file_figures(con, profiles: list[dict], *, path: str, dialect: dict, columns: list[str], sampled: bool) -> None:
    """Numbers' and dates' min, max and nulls over every row: the sample table when it is the whole file,
    else one more pass over the file (profiling.figures); sample figures, labelled so, when it cannot be read."""
    relation = figures_relation(path, dialect, columns, NULL_TOKENS) if sampled else ("sg", [])
    if relation is None or not apply_file_figures(
        con, profiles, relation=relation[0], params=relation[1], sampled=sampled
    ):
        for profile in profiles:
            profile["figures"] = "sample" if sampled else "file"


def profile_file_figures(*, path: str | os.PathLike, dialect: dict, document: dict) -> dict | None:
    """`document` (a stored profile of the UTF-8 CSV at `path`) with its number and date columns' min, max and
    nulls over the whole file: one pass, no re-profiling. None when the file cannot be read for it."""
    columns = [dict(c, notes=list(c.get("notes") or [])) for c in document.get("columns") or []]
    relation = figures_relation(str(path), {**DEFAULT_DIALECT, **dialect}, [c["name"] for c in columns], NULL_TOKENS)
    if relation is None:
        return None
    with duckdb.connect(config={"threads": 1}) as con:
        if not apply_file_figures(con, columns, relation=relation[0], params=relation[1], sampled=True):
            return None
    return {**document, "columns": columns}


_FLOAT_WHOLE = re.compile(r"^[-+]?\d+\.0+$")
_GROUPED_WHOLE = re.compile(r"^[-+]?\d{1,3}(?:[ \u00a0\u202f']\d{3})+$")
_WRITTEN_NOTES = {
    "float": "whole numbers written as floats (14911.0): read as whole numbers",
    "grouped": "whole numbers with digits grouped by spaces (1 957): read as whole numbers",
}


def _whole_numbers(values: list[str]) -> tuple[list[int], str | None] | None:
    """(the numbers, how they are written) when every value is a whole number: plain (42), written as a
    float by a spreadsheet (42.0, with at least one such value), or grouped by spaces (1 957); else None."""
    plain = floats = grouped = 0
    numbers = []
    for v in values:
        if _INTEGER.match(v):
            plain += 1
            numbers.append(int(v))
        elif _FLOAT_WHOLE.match(v):
            floats += 1
            numbers.append(int(v.split(".")[0]))
        elif _GROUPED_WHOLE.match(v):
            grouped += 1
            numbers.append(int(_GROUPING.sub("", v)))
        else:
            return None
    if floats and grouped:
        return None
    return numbers, ("float" if floats else "grouped" if grouped else None)


_DIGIT_CODE = re.compile(r"^[A-Za-z]{1,3}[-_]?\d+$|^\d+[A-Za-z]{1,3}$")


def _codes_among_numbers(values: list[str]) -> bool:
    """Whether a column of plain whole numbers (most values) also holds codes made of such a number and a
    letter prefix or suffix (C536379, 85123A): one column of codes, however few the letters."""
    sample = values[:DISTINCT_LIMIT]
    plain = sum(1 for v in sample if _INTEGER.match(v))
    codes = sum(1 for v in sample if _DIGIT_CODE.match(v))
    return bool(codes) and plain + codes == len(sample) and plain >= 0.5 * len(sample)


def _looks_like_key(values: list[str]) -> bool:
    """Codes such as ALFKI, CUST-0042, INV/2024/17: upper-case or digit-bearing tokens without spaces."""
    sample = values[:200]
    keyish = sum(1 for v in sample if _CODE_LIKE.match(v) and (any(c.isdigit() for c in v) or v.isupper()))
    return keyish >= 0.9 * len(sample) and len(values) > 2


def profile_file(
    *,
    path: str | os.PathLike,
    dialect: dict | None = None,
    file_format: str = "csv",
    total_rows: int | None = None,
    file_figures: bool = True,
) -> dict:
    """Profile a file on disk (no database involved): the `DataSource.profile` document.

    {"rows_profiled", "sampled", "rows", "columns": [per-column dict], "charts": [Vega-Lite specs]}
    With `file_figures` false, a sampled file's number and date ranges are the sample's (labelled so):
    `profile_file_figures` replaces them later, off the request.
    """
    dialect = {**DEFAULT_DIALECT, **(dialect or {})}
    temp_csv = None
    if file_format in WORKBOOK_SUFFIXES.values():
        # The upload's converter, so a cell reads the same here as in the stored upload.
        with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as tmp:
            workbook, temp_csv = Path(path), tmp.name
        path = temp_csv
        try:
            converted = workbook_to_csv(
                workbook,
                Path(temp_csv),
                sheet=dialect.get("sheet"),
                header_row=dialect.get("header_row"),
            )
        except WorkbookUnreadable as exc:
            os.unlink(temp_csv)
            raise ProfileError(str(exc)) from exc
        dialect = {
            **DEFAULT_DIALECT,
            "sheet": converted.sheet,
            "header_row": converted.header_row,
            "date_order": dialect.get("date_order"),
        }
    try:
        # One thread: a 1 MB sample gains nothing from more, and a busy machine loses to the switching.
        with readable_csv(path, dialect) as sample, duckdb.connect(config={"threads": 1}) as con:
            sampled = sample.sampled
            columns, ragged = open_sample(con, sample.path, dialect, sampled=sampled)
            ragged_rows = (ragged or {}).get("rows", 0)
            rows = con.execute("SELECT count(*) FROM s").fetchone()[0]
            stats = _column_stats(con, columns)
            evidence.clean_view(con, columns, NULL_TOKENS)
            profiles = [_column_profile(con, c, normalize_header(c), rows, stats[i], i) for i, c in enumerate(columns)]
            evidence.settle_dates(con, profiles, locale=dialect.get("date_order"))
            if sampled and not file_figures:
                for profile in profiles:
                    profile["figures"] = "sample"
            else:
                _file_figures(con, profiles, path=str(path), dialect=dialect, columns=columns, sampled=sampled)
            document = {
                "rows_profiled": rows,
                "sampled": sampled,
                "rows": total_rows if total_rows is not None else (None if sampled else rows + ragged_rows),
                "columns": profiles,
                "ragged": ragged,
                "grain": evidence.grain(con, profiles),
            }
            if sampled and sample.spread and total_rows is None:
                # Without reading the file: rows ≈ its bytes at the sample's bytes per row (say "≈").
                document["rows_estimated"] = round(
                    (rows + (ragged or {}).get("rows", 0)) * sample.file_bytes / sample.bytes_read
                )
            document["charts"] = quickviz_specs(con=con, profile=document)
            return document
    finally:
        if temp_csv:
            os.unlink(temp_csv)
