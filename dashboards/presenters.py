"""What a widget shows, computed from its rows: formatted numbers, change vs previous period, table cells.

Kept apart from views so pages, exports and the API read the same rows the same way.
"""

from __future__ import annotations

import copy
import hashlib
import html
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from canonical.schema import TABLES_BY_NAME
from dashboards.filters import DashboardFilters
from dashboards.kpi.registry import KPI_VIEWS, KpiView, date_filter_column
from dashboards.models import Widget
from dashboards.selectors import WidgetData
from dashboards.viewer_format import ViewerFormat

TABLE_MAX_ROWS = 200


def number_field(widget: Widget) -> str:
    text = (widget.vega_spec.get("encoding") or {}).get("text") or {}
    return str(text.get("field") or "")


def format_number(value: float | int | None, kind: str = "money") -> str:
    if value is None:
        return "—"
    if kind == "integer":
        return f"{round(value):,}"
    return f"{value:,.2f}"


@dataclass
class WidgetDisplay:
    data: WidgetData
    number: str = ""
    change: str = ""
    change_direction: str = ""  # "up" | "down" | ""
    columns: list[str] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)  # (column, label): "order_count" → "Order count"
    cells: list[list[str]] = field(default_factory=list)
    truncated: bool = False
    all_time: bool = False  # the rows are all-time totals: the view has no dates, or no date range is chosen
    date_filter_ignored: bool = False  # the view cannot be filtered by date, and a date range is chosen
    all_time_note: str = ""  # why all time (a tooltip)
    period: str = ""  # the date range the rows cover, when one is chosen and applies ("Jan 2024 – Jun 2024")
    needs_data: str = ""  # empty for everyone, or every value shown unknown: which upload would fill it
    undated: str = ""  # the revenue in no month: lines whose order has no date yet ("" when there is none)

    @property
    def cells_html(self) -> SafeString:
        """The table's body rows, each cell escaped (html.escape, as the template's autoescape): built here, not by a
        template loop per cell (a 200-row table is 800 cells, most of the partial's render time)."""
        return mark_safe(  # noqa: S308 - every cell is escaped here
            "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in self.cells)
        )


def column_label(column: str) -> str:
    """A table header from a KPI column name ("customer_count" → "Customer count"); exports keep the names."""
    return column.replace("_", " ").strip().capitalize() or column


def _sum(rows: list[dict], name: str) -> float | None:
    values = [r.get(name) for r in rows if r.get(name) is not None]
    return round(sum(values), 2) if values else None


def widget_all_time(widget: Widget) -> bool:
    """A widget on a view that cannot be filtered by date shows all time whatever the dashboard's date range."""
    view = KPI_VIEWS.get(widget.view_name)
    return view is not None and date_filter_column(view) is None


def _month_or_day(value: date, *, end: bool) -> str:
    # date.max is the last day of a month (adding a day to it overflows).
    whole_month = (value == date.max or (value + timedelta(days=1)).day == 1) if end else value.day == 1
    return value.strftime("%b %Y") if whole_month else value.isoformat()


def period_label(filters: DashboardFilters | None) -> str:
    """ "Jan 2024 – Jun 2024" (whole months), "2024-01-15 – 2024-02-10", "from Mar 2024", "until 2024-06-10"."""
    if filters is None or not (filters.date_from or filters.date_to):
        return ""
    start = _month_or_day(filters.date_from, end=False) if filters.date_from else ""
    end = _month_or_day(filters.date_to, end=True) if filters.date_to else ""
    if start and end:
        return start if start == end else f"{start} – {end}"
    return f"from {start}" if start else f"until {end}"


def widget_period(widget: Widget, filters: DashboardFilters | None) -> dict | None:
    """The date range a widget's rows cover ({"from", "to"}: ISO dates or None), None for all time."""
    if widget_all_time(widget) or filters is None or not (filters.date_from or filters.date_to):
        return None
    return {
        "from": filters.date_from.isoformat() if filters.date_from else None,
        "to": filters.date_to.isoformat() if filters.date_to else None,
    }


def needs_data_message(widget: Widget, freshness: dict) -> str:
    """ "Upload invoices to see Receivables aging" when the widget's view is empty for everyone.

    From the refresh engine's row count of the whole view (not the caller's rows: a rep without invoices of
    their own is not told to upload any). The view's first dependency is the data it is about.
    """
    view = KPI_VIEWS.get(widget.view_name)
    if view is None or not view.depends_on or freshness.get("rows") != 0:
        return ""
    table = TABLES_BY_NAME.get(view.depends_on[0])
    label = table.label.lower() if table else view.depends_on[0].removeprefix("canonical_").replace("_", " ")
    return f"Upload {label} to see {widget.title}."


def unknown_values_message(view: KpiView | None, rows: list[dict]) -> str:
    """ "Cost of goods unknown: upload products with a unit cost" when every value a widget shows is unknown.

    Only when all the measures the rows carry are columns the view declares may be unknown (a table that also
    shows revenue keeps its rows, with empty cells) and none of them is known in any row.
    """
    if view is None or not view.unknown_message or not rows:
        return ""
    shown = {name for row in rows for name in row if view.columns.get(name) in ("money", "number", "integer")}
    if not shown or not shown <= set(view.unknown_columns):
        return ""
    if any(row.get(name) is not None for row in rows for name in shown):
        return ""
    return view.unknown_message


def widget_display(
    data: WidgetData, filters: DashboardFilters | None = None, fmt: ViewerFormat | None = None
) -> WidgetDisplay:
    """What a widget shows; numbers and dates as `fmt` (the viewer's locale and the data's currency) writes
    them, or as 1,234.50 and ISO dates without one."""
    widget = data.widget
    display = WidgetDisplay(data=data)
    ranged = bool(filters and (filters.date_from or filters.date_to))
    view = KPI_VIEWS.get(widget.view_name)
    if widget_all_time(widget):
        display.all_time, display.date_filter_ignored = True, ranged
        display.all_time_note = "This KPI view has no date column"
    elif ranged:
        display.period = period_label(filters)
    else:
        # Per-entity totals (top customers) without a date range are all-time sums, not a series over months.
        display.all_time = view is not None and view.date_column is None
        display.all_time_note = "Totals over all time: choose a date range to narrow them"
    # A grand total over no rows is one row of NULLs (a number widget): as empty as no row at all.
    if not data.error and not any(v is not None for row in data.rows for v in row.values()):
        display.needs_data = needs_data_message(widget, data.freshness)
    if not data.error and not display.needs_data:
        display.needs_data = unknown_values_message(view, data.rows)
    display.undated = undated_message(data.undated)
    if widget.chart_type == Widget.ChartType.NUMBER:
        name = number_field(widget)
        current = _sum(data.rows, name)
        kind = view.columns.get(name, "money") if view else "money"
        display.number = fmt.number(current, kind) if fmt else format_number(current, kind)
        if data.previous_rows is not None:
            previous = _sum(data.previous_rows, name)
            if current is not None and previous:
                change = (current - previous) / abs(previous) * 100
                display.change = f"{change:+.1f}% vs previous period"
                display.change_direction = "up" if change > 0 else "down" if change < 0 else ""
            else:
                display.change = "no data in the previous period"
        elif display.all_time:
            display.change = ""  # a view without dates (receivables open today) has no previous period
        else:
            display.change = "choose a date range to compare with the previous period"
    elif widget.chart_type == Widget.ChartType.TABLE:
        display.columns = list(widget.vega_spec.get("columns") or (data.rows[0].keys() if data.rows else []))
        display.headers = [(c, column_label(c)) for c in display.columns]
        display.truncated = len(data.rows) > TABLE_MAX_ROWS
        kinds = KPI_VIEWS[widget.view_name].columns if widget.view_name in KPI_VIEWS else {}
        for row in data.rows[:TABLE_MAX_ROWS]:
            display.cells.append(
                [
                    table_cell(row.get(c), cell_kind(c, kinds.get(c, "")), fmt, month=c == "month")
                    for c in display.columns
                ]
            )
    return display


def undated_message(undated: dict | None) -> str:
    """What a month view's widget says about the revenue in no month (lines whose order is not loaded yet)."""
    if not undated:
        return ""
    lines = int(undated.get("line_count") or 0)
    orders = int(undated.get("order_count") or 0)
    revenue = format_number(undated.get("revenue"), "money")
    waiting = f"{lines:,} order line{'' if lines == 1 else 's'} wait{'s' if lines == 1 else ''} for their order"
    missing = f"{orders:,} order{'' if orders == 1 else 's'} not loaded yet"
    return f"Undated: {revenue} not in any month — {waiting} ({missing})."


def _months(first: date, last: date) -> list[date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _monthly_path_fields(spec: dict) -> tuple[str, str, str] | None:
    """(x, y, color) of a line or area chart over months (x temporal by year and month), else None.

    Only a spec whose encodings name no other field: its rows can be summed per month here without losing any.
    """
    mark = spec.get("mark")
    mark_type = mark.get("type") if isinstance(mark, dict) else mark
    encoding = spec.get("encoding")
    if mark_type not in ("line", "area") or not isinstance(encoding, dict) or spec.get("transform"):
        return None
    x, y, color = encoding.get("x") or {}, encoding.get("y") or {}, encoding.get("color") or {}
    if x.get("type") != "temporal" or x.get("timeUnit") != "yearmonth" or not x.get("field") or not y.get("field"):
        return None
    if y.get("aggregate") not in (None, "sum"):
        return None
    fields = (x["field"], y["field"], color.get("field") or "")
    named: set[str] = set()
    _named_fields(encoding, named)
    return fields if named <= set(fields) else None


def _named_fields(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "field" and isinstance(value, str):
                found.add(value)
            else:
                _named_fields(value, found)
    elif isinstance(node, list):
        for item in node:
            _named_fields(item, found)


def chart_payload(widget: Widget, rows: list[dict], fmt: ViewerFormat | None = None) -> dict:
    """The spec and rows a chart is drawn from (json_script on the widget): a gap in the data stays a gap.

    A line or area over months joins the months it has, so twenty years without orders between two that have
    some would be drawn as a band. Here each series gets every month of the data's extent, summed per month,
    with no value (null) where there is none, and the mark breaks its path at nulls (Vega-Lite `invalid`).
    The rows are summed per month already, so the spec's sum goes: a sum of only nulls would draw a 0.
    The title is the widget's: an exported image names what it shows.
    """
    spec = copy.deepcopy(widget.vega_spec)
    fields = _monthly_path_fields(spec)
    if fields and rows:
        x, y, color = fields
        sums: dict[tuple[str, Any], float | None] = {}
        for row in rows:
            when = row.get(x)
            if not when:
                continue
            month = date.fromisoformat(str(when)[:10]).replace(day=1)
            key = (month.isoformat(), row.get(color) if color else None)
            value = row.get(y)
            if value is not None:
                sums[key] = (sums.get(key) or 0) + value
            else:
                sums.setdefault(key, None)
        if sums:
            months = _months(*(date.fromisoformat(m) for m in (min(sums)[0], max(sums)[0])))
            series = sorted({k[1] for k in sums}, key=lambda v: (v is None, str(v)))
            rows = []
            for month in months:
                for value in series:
                    row = {x: month.isoformat(), y: sums.get((month.isoformat(), value))}
                    if color:
                        row[color] = value
                    rows.append(row)
            encoding = spec["encoding"]
            encoding["y"].pop("aggregate", None)
            for tip in encoding.get("tooltip") or []:
                if isinstance(tip, dict) and tip.get("field") == y:
                    tip.pop("aggregate", None)
            mark = spec["mark"] if isinstance(spec["mark"], dict) else {"type": spec["mark"]}
            # Points too when a path is broken: a month alone between gaps is no line, only a point.
            gaps = any(row[y] is None for row in rows)
            spec["mark"] = {**mark, "invalid": "break-paths-show-domains", "point": mark.get("point", gaps)}
    mark = spec.get("mark")
    if (mark.get("type") if isinstance(mark, dict) else mark) in ("line", "area"):
        mark = mark if isinstance(mark, dict) else {"type": mark}
        # Each point an item of its own, drawn or not, for a click to drill by: a path is one item, its first point's
        # (static/js/drill.js).
        spec["mark"] = {**mark, "point": mark.get("point") or "transparent"}
    spec = spec_localized(spec, KPI_VIEWS.get(widget.view_name), fmt)
    return {"spec": spec, "rows": rows, "type": widget.chart_type, "title": widget.title}


def cell_kind(column: str, kind: str) -> str:
    """How a table writes a column of KPI type `kind`: an employee's or entity's id as it is, not as a count."""
    return "id" if column.endswith("_id") else kind


def table_cell(value, kind: str = "", fmt: ViewerFormat | None = None, *, month: bool = False) -> str:
    """A table cell as the viewer writes it (`fmt`), or as 1,234.50 and ISO dates without one; `month`: a date
    that stands for its month ("Jan 2024")."""
    if kind == "id" and value is not None:
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        number_kind = "integer" if kind == "integer" else "money" if kind == "money" else "number"
        if fmt is not None:
            return fmt.number(value, number_kind)
        return format_number(value, "integer" if kind == "integer" else "money")
    if fmt is not None and kind == "date" and value:
        return fmt.date(value, month=month)
    return "" if value is None else str(value)


def spec_localized(spec: dict, view: KpiView | None, fmt: ViewerFormat | None) -> dict:
    """The spec with money fields formatted with the data's currency ("$" in d3-format is the viewer's locale's
    currency, set by static/js/viewer.js) and counts without decimals, in axes, tooltips and text marks."""
    if fmt is None or view is None:
        return spec

    def visit(node: Any, channel: str = "") -> None:
        if isinstance(node, list):
            for item in node:
                visit(item, channel)
            return
        if not isinstance(node, dict):
            return
        kind = view.columns.get(node.get("field")) if isinstance(node.get("field"), str) else None
        if kind == "money" and fmt.currency:
            if channel in ("x", "y") and node.get("axis", {}) is not None:
                node["axis"] = {"format": "$,.0f", **(node.get("axis") or {})}
            elif channel in ("tooltip", "text"):
                node["format"] = "$" + str(node.get("format") or ",.2f").lstrip("$")
        elif kind == "integer" and channel in ("tooltip", "text") and "format" not in node:
            node["format"] = ",d"
        for key, value in node.items():
            if key in ("encoding", "layer", "spec", "hconcat", "vconcat", "concat"):
                visit(value)
            elif key in ("x", "y", "tooltip", "text", "color", "theta", "size") and isinstance(value, (dict, list)):
                visit(value, key)

    visit(spec)
    return spec


def widget_etag(
    widget: Widget, freshness: dict, *, scope_key: str, filters_key: str, also: tuple[dict, ...] = ()
) -> str:
    """Changes when what the widget would show may have changed: new data, new spec, other scope/filters.
    `also`: the freshness of other views the widget reads (the revenue in no month its view mentions).

    Computed without reading the KPI rows, so an unchanged widget costs a 304 and two small queries.
    """
    parts = [
        str(widget.pk),
        widget.updated_at.isoformat() if widget.updated_at else "",
        scope_key,
        filters_key,
        str(freshness.get("refreshed_at")),
        str(freshness.get("is_stale")),
        str(freshness.get("last_error") or ""),
        *(str(other.get("refreshed_at")) for other in also),
    ]
    return '"' + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32] + '"'


def option_selected(options: str, selected: int | None) -> SafeString:
    """`employee_options(…, None)` with the option of id `selected` selected (ids are ints: its value is unique)."""
    if selected is not None:
        options = options.replace(f'<option value="{int(selected)}">', f'<option value="{int(selected)}" selected>', 1)
    return mark_safe(options)  # noqa: S308 - built by employee_options, labels escaped


def employee_options(employees: list[tuple[int, str]], selected: int | None) -> SafeString:
    """The <option>s of a dashboard's rep or team picker, labels escaped (html.escape, as Django's `escape`): built
    here, not by a template loop or format_html per option (an executive's page lists every employee in both
    pickers; those made most of the page's time). Ids are integers."""
    return mark_safe(  # noqa: S308 - every label is escaped above, ids are ints
        "".join(
            f'<option value="{int(pk)}"{" selected" if pk == selected else ""}>{html.escape(str(label))}</option>'
            for pk, label in employees
        )
    )
