"""Quick Viz: one to three Vega-Lite charts of an upload's raw sample, suggested from its profile.

A date and a number → the monthly total as a line; a category and a number → a bar per category; one
number → a histogram. The data are aggregated by DuckDB from the profiling sample and embedded in the
spec, so the page needs no further request. Every chart says it is a sampled preview of raw values.
"""

from __future__ import annotations

import re

import duckdb

from mappings.intake.duck import quote_ident

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier for vega-embed; never fetched
HISTOGRAM_VALUES = 2000
BAR_CATEGORIES = 15

_MONEYISH = re.compile(r"amount|total|price|revenue|betrag|montant|importe|sum|value|cost|paid|freight", re.I)


def _number_expr(column: dict) -> str:
    """DuckDB expression reading a profiled number column's text as DOUBLE (locale-aware, preview only)."""
    col = quote_ident(column["name"])
    if column.get("locale") == "de":
        return f"try_cast(replace(regexp_replace({col}, '[^0-9,\\-]', '', 'g'), ',', '.') AS DOUBLE)"
    return f"try_cast(regexp_replace({col}, '[^0-9.\\-]', '', 'g') AS DOUBLE)"


def _pick_number(columns: list[dict]) -> dict | None:
    numbers = [c for c in columns if c["type"] == "decimal" or (c["type"] == "integer" and not c.get("id_like"))]
    numbers.sort(key=lambda c: (c["type"] != "decimal", not _MONEYISH.search(c["name"]), c["null_share"]))
    return numbers[0] if numbers else None


def _pick_date(columns: list[dict]) -> dict | None:
    dates = [c for c in columns if c["type"] in ("date", "datetime") and c["null_share"] < 0.9]
    dates.sort(key=lambda c: c["null_share"])
    return dates[0] if dates else None


def _pick_category(columns: list[dict]) -> dict | None:
    cats = [c for c in columns if c["type"] in ("category", "boolean") and 2 <= c["distinct"] <= 60 and not c["pii"]]
    cats.sort(key=lambda c: (c["null_share"], c["distinct"]))
    return cats[0] if cats else None


def _base(title: str, sampled: bool, rows: int) -> dict:
    note = f"Preview of {rows:,} sampled raw rows" if sampled else f"Preview of all {rows:,} raw rows"
    return {
        "$schema": SCHEMA,
        "title": {"text": title, "subtitle": note + " (before mapping)"},
        "width": "container",
        "height": 220,
        "usermeta": {"sampled_preview": True, "sampled": sampled},
    }


def quickviz_specs(*, con: duckdb.DuckDBPyConnection, profile: dict) -> list[dict]:
    """Suggested charts for the sample loaded as table `s` in `con` (see profile.open_sample)."""
    columns = profile["columns"]
    sampled, rows = profile["sampled"], profile["rows_profiled"]
    if not rows:
        return []
    number, date, category = _pick_number(columns), _pick_date(columns), _pick_category(columns)
    specs: list[dict] = []
    if date:
        when = f"date_trunc('month', try_strptime(trim({quote_ident(date['name'])}), ?))"
        measure = f"sum({_number_expr(number)})" if number else "count(*)"
        data = con.execute(
            f"SELECT strftime({when}, '%Y-%m-%d') AS month, round({measure}, 2) AS value FROM s "
            f"WHERE {when} IS NOT NULL GROUP BY 1 ORDER BY 1",
            [date["format"], date["format"]],
        ).fetchall()
        y_title = f"sum of {number['name']}" if number else "rows"
        spec = _base(f"{y_title.capitalize()} per month of {date['name']}", sampled, rows)
        spec.update(
            data={"values": [{"month": m, "value": v} for m, v in data]},
            mark={"type": "line", "point": True, "tooltip": True},
            encoding={
                "x": {"field": "month", "type": "temporal", "timeUnit": "yearmonth", "title": date["name"]},
                "y": {"field": "value", "type": "quantitative", "title": y_title},
            },
        )
        specs.append(spec)
    if category:
        measure = f"sum({_number_expr(number)})" if number else "count(*)"
        col = quote_ident(category["name"])
        data = con.execute(
            f"SELECT trim({col}) AS category, round({measure}, 2) AS value FROM s WHERE {col} IS NOT NULL "
            f"AND trim({col}) <> '' GROUP BY 1 ORDER BY value DESC NULLS LAST LIMIT {BAR_CATEGORIES}"
        ).fetchall()
        y_title = f"sum of {number['name']}" if number else "rows"
        spec = _base(f"{y_title.capitalize()} by {category['name']}", sampled, rows)
        spec.update(
            data={"values": [{"category": c, "value": v} for c, v in data]},
            mark={"type": "bar", "tooltip": True},
            encoding={
                "y": {"field": "category", "type": "nominal", "sort": "-x", "title": category["name"]},
                "x": {"field": "value", "type": "quantitative", "title": y_title},
            },
        )
        specs.append(spec)
    if number:
        data = con.execute(
            f"SELECT v FROM (SELECT {_number_expr(number)} AS v FROM s) WHERE v IS NOT NULL "
            f"USING SAMPLE reservoir({HISTOGRAM_VALUES} ROWS) REPEATABLE (7)"
        ).fetchall()
        spec = _base(f"Distribution of {number['name']}", sampled, rows)
        spec.update(
            data={"values": [{"value": v} for (v,) in data]},
            mark={"type": "bar", "tooltip": True},
            encoding={
                "x": {"field": "value", "type": "quantitative", "bin": {"maxbins": 30}, "title": number["name"]},
                "y": {"aggregate": "count", "type": "quantitative", "title": "rows"},
            },
        )
        specs.append(spec)
    return specs[:3]
