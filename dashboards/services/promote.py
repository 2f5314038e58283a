"""Promote a Quick Viz chart (a preview of an upload's raw sample) to a durable dashboard widget.

Once the upload has been mapped and executed, its columns live in canonical tables and KPI views. The
chart's columns (Quick Viz titles its axes with the raw column names) are followed through the executed
mapping to a canonical column, and from there to the KPI view that charts the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from dashboards.models import Dashboard, Widget
from dashboards.services.widgets import widget_create, widget_query_build, widget_spec_build
from mappings.models import DataSource, ExecutionJob, FieldMapping

# canonical (table, column) of the chart's x -> (KPI view, its x column, its measure)
TIME_SERIES = {
    ("canonical_orders", "order_date"): ("monthly_revenue", "month", "revenue"),
    ("canonical_invoices", "invoice_date"): ("collections", "month", "invoiced"),
    ("canonical_payments", "payment_date"): ("collections", "month", "collected"),
    ("canonical_expenses", "expense_date"): ("monthly_expenses", "month", "amount"),
}
BY_CATEGORY = {
    ("canonical_products", "category"): ("revenue_by_category", "category", "revenue"),
    ("canonical_expenses", "category"): ("monthly_expenses", "category", "amount"),
    ("canonical_expenses", "department"): ("monthly_expenses", "department", "amount"),
    ("canonical_customers", "segment"): ("customer_segments", "segment", "revenue"),
    ("canonical_customers", "country"): ("customer_segments", "country", "revenue"),
    ("canonical_orders", "status"): ("order_fulfillment", "status", "order_count"),
}


@dataclass(frozen=True)
class PromoteTarget:
    title: str
    view_name: str
    chart_type: str
    x: str
    y: str


def _chart(source: DataSource, index: int) -> dict:
    charts = (source.profile or {}).get("charts") or []
    if not 0 <= index < len(charts):
        raise ValidationError(f"upload #{source.pk} has no Quick Viz chart number {index + 1}")
    return charts[index]


def quickviz_promote_target(*, source: DataSource, chart_index: int) -> PromoteTarget:
    """Which KPI view a Quick Viz chart becomes; ValidationError saying why when it cannot."""
    spec = _chart(source, chart_index)
    encoding = spec.get("encoding") or {}
    if (encoding.get("x") or {}).get("field") == "month":
        kind, column, table = "time", (encoding["x"].get("title") or ""), TIME_SERIES
    elif (encoding.get("y") or {}).get("field") == "category":
        kind, column, table = "category", (encoding["y"].get("title") or ""), BY_CATEGORY
    else:
        raise ValidationError("only Quick Viz charts over months or categories can become widgets (not histograms)")
    job = (
        ExecutionJob.objects.filter(source=source, status=ExecutionJob.Status.SUCCEEDED)
        .select_related("mapping")
        .order_by("-finished_at", "-created_at")
        .first()
    )
    if job is None:
        raise ValidationError("map and execute this upload first: the widget reads its data from KPI views")
    targets = FieldMapping.objects.filter(mapping=job.mapping, source_col=column).values_list(
        "canonical_table", "canonical_col"
    )
    for pair in targets:
        if pair in table:
            view_name, x, y = table[pair]
            chart_type = Widget.ChartType.AREA if kind == "time" else Widget.ChartType.BAR
            title = f"{y.replace('_', ' ').capitalize()} by {x}"
            return PromoteTarget(title=title, view_name=view_name, chart_type=chart_type, x=x, y=y)
    mapped = ", ".join(f"{t}.{c}" for t, c in targets if t) or "nothing"
    raise ValidationError(f"column {column!r} was mapped to {mapped}; no KPI view charts that by {kind}")


@transaction.atomic
def quickviz_chart_promote(*, source: DataSource, chart_index: int, dashboard: Dashboard) -> Widget:
    """Add the KPI widget a Quick Viz chart stands for to `dashboard` (caller checked both accesses)."""
    target = quickviz_promote_target(source=source, chart_index=chart_index)
    fields = {"chart_type": target.chart_type, "view_name": target.view_name, "x": target.x, "y": target.y}
    return widget_create(
        dashboard=dashboard,
        title=target.title,
        vega_spec=widget_spec_build(**fields),
        query_options=widget_query_build(**fields),
        chart_type=target.chart_type,
        view_name=target.view_name,
        width=12 if target.chart_type == Widget.ChartType.AREA else 6,
    )
