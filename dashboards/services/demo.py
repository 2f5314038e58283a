"""The demo dashboards ("Sales overview", "Finance"), shared with the demo users. Idempotent."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Dashboard
from dashboards.services.dashboards import dashboard_create, dashboard_share
from dashboards.services.widgets import widget_create, widget_query_build, widget_spec_build

logger = logging.getLogger(__name__)

DEMO_VIEWERS = ("fuller", "buchanan", "davolio")


def _bar(category: str, value: str, *, horizontal: bool = False, key: str = "") -> dict:
    """A bar per `category`; `key`: the id that tells apart two entities with the same name (one segment each)."""
    axis_cat = {"field": category, "type": "nominal", "sort": "-x" if horizontal else "-y", "title": None}
    axis_val = {"field": value, "type": "quantitative", "title": value.replace("_", " "), "axis": {"format": "~s"}}
    encoding = {"y": axis_cat, "x": axis_val} if horizontal else {"x": axis_cat, "y": axis_val}
    encoding["tooltip"] = [
        {"field": category, "type": "nominal"},
        {"field": value, "type": "quantitative", "format": ",.2f"},
    ]
    if key:
        encoding["detail"] = {"field": key, "type": "nominal"}
        encoding["tooltip"].insert(1, {"field": key, "type": "nominal"})
    return {"mark": {"type": "bar", "tooltip": True}, "encoding": encoding}


# Ranked by customer id, labelled with the name: two customers of the same name stay two customers.
TOP_CUSTOMERS_QUERY = {
    "group_by": ["customer_id", "customer_name"],
    "measures": ["revenue"],
    "order_by": ["-revenue"],
    "limit": 10,
}


def _sales_widgets() -> list[dict]:
    return [
        {
            "title": "Revenue",
            "chart_type": "number",
            "view_name": "monthly_revenue",
            "vega_spec": widget_spec_build(chart_type="number", view_name="monthly_revenue", y="revenue"),
            "query_options": {"measures": ["revenue"]},
            "width": 6,
        },
        {
            "title": "Orders",
            "chart_type": "number",
            "view_name": "monthly_revenue",
            "vega_spec": widget_spec_build(chart_type="number", view_name="monthly_revenue", y="order_count"),
            "query_options": {"measures": ["order_count"]},
            "width": 6,
        },
        {
            "title": "Monthly revenue",
            "chart_type": "area",
            "view_name": "monthly_revenue",
            "vega_spec": widget_spec_build(chart_type="area", view_name="monthly_revenue", x="month", y="revenue"),
            "query_options": widget_query_build(chart_type="area", view_name="monthly_revenue", x="month", y="revenue"),
            "width": 12,
            "refresh_interval": "15m",
        },
        {
            "title": "Top customers",
            "chart_type": "vega",
            "view_name": "top_customers",
            "vega_spec": _bar("customer_name", "revenue", horizontal=True, key="customer_id"),
            "query_options": TOP_CUSTOMERS_QUERY,
        },
        {
            "title": "Revenue by category",
            "chart_type": "vega",
            "view_name": "revenue_by_category",
            "vega_spec": _bar("category", "revenue"),
            "query_options": {"group_by": ["category"], "measures": ["revenue"], "order_by": ["-revenue"]},
        },
        {
            "title": "Rep performance",
            "chart_type": "table",
            "view_name": "sales_rep_performance",
            "vega_spec": {"columns": ["rep_name", "revenue", "order_count", "customer_count"]},
            "query_options": {
                "group_by": ["rep_name"],
                "measures": ["revenue", "order_count", "customer_count"],
                "order_by": ["-revenue"],
            },
        },
        {
            "title": "Order fulfillment",
            "chart_type": "bar",
            "view_name": "order_fulfillment",
            "vega_spec": widget_spec_build(
                chart_type="bar", view_name="order_fulfillment", x="month", y="order_count", color="status"
            ),
            "query_options": widget_query_build(
                chart_type="bar", view_name="order_fulfillment", x="month", y="order_count", color="status"
            ),
        },
    ]


def _finance_widgets() -> list[dict]:
    return [
        {
            "title": "Open receivables",
            "chart_type": "number",
            "view_name": "ar_aging",
            "vega_spec": widget_spec_build(chart_type="number", view_name="ar_aging", y="total_open"),
            "query_options": {"measures": ["total_open"]},
        },
        {
            "title": "Gross margin",
            "chart_type": "number",
            "view_name": "gross_margin",
            "vega_spec": widget_spec_build(chart_type="number", view_name="gross_margin", y="gross_margin"),
            "query_options": {"measures": ["gross_margin"]},
        },
        {
            "title": "Invoiced vs collected",
            "chart_type": "vega",
            "view_name": "collections",
            "query_options": {"group_by": ["month"], "measures": ["invoiced", "collected"], "order_by": ["month"]},
            "vega_spec": {
                "transform": [{"fold": ["invoiced", "collected"], "as": ["measure", "amount"]}],
                "mark": {"type": "line", "point": True, "tooltip": True},
                "encoding": {
                    "x": {"field": "month", "type": "temporal", "timeUnit": "yearmonth", "title": "month"},
                    "y": {"field": "amount", "type": "quantitative", "aggregate": "sum"},
                    "color": {"field": "measure", "type": "nominal"},
                },
            },
            "width": 12,
        },
        {
            "title": "Receivables aging",
            "chart_type": "table",
            "view_name": "ar_aging",
            "vega_spec": {
                "columns": ["customer_name", "current_due", "days_1_30", "days_31_60", "days_61_90", "days_90_plus"]
            },
            "query_options": {
                "group_by": ["customer_name"],
                "measures": ["current_due", "days_1_30", "days_31_60", "days_61_90", "days_90_plus", "total_open"],
                "order_by": ["-total_open"],
                "limit": 25,
            },
        },
        {
            "title": "Gross margin by month",
            "chart_type": "line",
            "view_name": "gross_margin",
            "vega_spec": widget_spec_build(chart_type="line", view_name="gross_margin", x="month", y="gross_margin"),
            "query_options": widget_query_build(
                chart_type="line", view_name="gross_margin", x="month", y="gross_margin"
            ),
        },
        {
            "title": "Expenses by category",
            "chart_type": "vega",
            "view_name": "monthly_expenses",
            "vega_spec": _bar("category", "amount"),
            "query_options": {"group_by": ["category"], "measures": ["amount"], "order_by": ["-amount"]},
            "width": 12,
        },
    ]


DEMO_DASHBOARDS = [
    ("sales-overview", "Sales overview", "Revenue, customers, categories, reps and fulfillment.", _sales_widgets),
    ("finance", "Finance", "Receivables, collections, margin and expenses.", _finance_widgets),
]


@transaction.atomic
def demo_dashboards_ensure() -> None:
    """Create the demo dashboards if missing (an existing one is left as its users edited it) and share
    them (view) with the demo users that exist."""
    owner = User.objects.filter(username="admin").first()
    for slug, title, description, widgets in DEMO_DASHBOARDS:
        dashboard = Dashboard.objects.filter(slug=slug).first()
        if dashboard is None:
            dashboard = dashboard_create(title=title, owner=owner, description=description, slug=slug)
            for position, spec in enumerate(widgets(), start=1):
                if spec["view_name"] not in KPI_VIEWS:
                    logger.warning("demo widget %s skipped: no KPI view %s", spec["title"], spec["view_name"])
                    continue
                try:
                    widget_create(dashboard=dashboard, position=position, **spec)
                except ValidationError as exc:
                    logger.warning("demo widget %s skipped: %s", spec["title"], "; ".join(exc.messages))
        for username in DEMO_VIEWERS:
            if User.objects.filter(username=username).exists():
                dashboard_share(dashboard=dashboard, level="view", username=username)
