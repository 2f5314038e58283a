"""What a widget shows, computed from its rows: formatted numbers, change vs previous period, table cells.

Kept apart from views so pages, exports and the API read the same rows the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from canonical.schema import TABLES_BY_NAME
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Widget
from dashboards.selectors import DashboardFilters, WidgetData

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
    cells: list[list[str]] = field(default_factory=list)
    truncated: bool = False
    all_time: bool = False  # the view has no date column: the dashboard's date range does not apply
    date_filter_ignored: bool = False  # all_time, and a date range is chosen
    needs_data: str = ""  # the view is empty for everyone: which upload would fill it


def _sum(rows: list[dict], name: str) -> float | None:
    values = [r.get(name) for r in rows if r.get(name) is not None]
    return round(sum(values), 2) if values else None


def widget_all_time(widget: Widget) -> bool:
    """A widget on a view without a date column shows all time whatever the dashboard's date range."""
    view = KPI_VIEWS.get(widget.view_name)
    return view is not None and view.date_column is None


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


def widget_display(data: WidgetData, filters: DashboardFilters | None = None) -> WidgetDisplay:
    widget = data.widget
    display = WidgetDisplay(data=data)
    display.all_time = widget_all_time(widget)
    display.date_filter_ignored = display.all_time and bool(filters and (filters.date_from or filters.date_to))
    # A grand total over no rows is one row of NULLs (a number widget): as empty as no row at all.
    if not data.error and not any(v is not None for row in data.rows for v in row.values()):
        display.needs_data = needs_data_message(widget, data.freshness)
    if widget.chart_type == Widget.ChartType.NUMBER:
        name = number_field(widget)
        view = KPI_VIEWS.get(widget.view_name)
        current = _sum(data.rows, name)
        display.number = format_number(current, view.columns.get(name, "money") if view else "money")
        if data.previous_rows is not None:
            previous = _sum(data.previous_rows, name)
            if current is not None and previous:
                change = (current - previous) / abs(previous) * 100
                display.change = f"{change:+.1f}% vs previous period"
                display.change_direction = "up" if change > 0 else "down" if change < 0 else ""
            else:
                display.change = "no data in the previous period"
        else:
            display.change = "choose a date range to compare with the previous period"
    elif widget.chart_type == Widget.ChartType.TABLE:
        display.columns = list(widget.vega_spec.get("columns") or (data.rows[0].keys() if data.rows else []))
        display.truncated = len(data.rows) > TABLE_MAX_ROWS
        kinds = KPI_VIEWS[widget.view_name].columns if widget.view_name in KPI_VIEWS else {}
        for row in data.rows[:TABLE_MAX_ROWS]:
            display.cells.append(
                [_cell(row.get(c), "id" if c.endswith("_id") else kinds.get(c, "")) for c in display.columns]
            )
    return display


def _cell(value, kind: str = "") -> str:
    if kind == "id" and value is not None:
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value, "integer" if kind == "integer" else "money")
    return "" if value is None else str(value)


def widget_etag(widget: Widget, freshness: dict, *, scope_key: str, filters_key: str) -> str:
    """Changes when what the widget would show may have changed: new data, new spec, other scope/filters.

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
    ]
    return '"' + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32] + '"'
