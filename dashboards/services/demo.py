"""The demo dashboards ("Sales overview", "Finance") of demo/dashboards.json, shared with the demo users. Idempotent."""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Dashboard
from dashboards.services.dashboards import dashboard_create, dashboard_share
from dashboards.services.widgets import widget_create, widget_query_build, widget_spec_build

logger = logging.getLogger(__name__)

DEMO_DASHBOARDS_FILE = Path(settings.BASE_DIR) / "demo" / "dashboards.json"


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


def _widget_specs(entry: dict) -> dict:
    """One widget of the data file as `widget_create` takes it."""
    spec = {k: v for k, v in entry.items() if k not in ("fields", "bar")}
    if fields := entry.get("fields"):
        spec["vega_spec"] = widget_spec_build(chart_type=entry["chart_type"], view_name=entry["view_name"], **fields)
        spec.setdefault(
            "query_options", widget_query_build(chart_type=entry["chart_type"], view_name=entry["view_name"], **fields)
        )
    elif bar := entry.get("bar"):
        spec["vega_spec"] = _bar(
            bar["category"], bar["value"], horizontal=bar.get("horizontal", False), key=bar.get("key", "")
        )
    return spec


@cache
def demo_dashboards_data() -> dict:
    """demo/dashboards.json: the demo dashboards, their widgets and the users they are shared with."""
    return json.loads(DEMO_DASHBOARDS_FILE.read_text(encoding="utf-8"))


def demo_widgets(slug: str) -> list[dict]:
    """The widgets of a demo dashboard, specs built, in their order on the page."""
    board = next(b for b in demo_dashboards_data()["dashboards"] if b["slug"] == slug)
    return [_widget_specs(entry) for entry in board["widgets"]]


def demo_widget_query(slug: str, title: str) -> dict:
    """The query options of one demo widget (tests read the demo's own queries)."""
    return next(w["query_options"] for w in demo_widgets(slug) if w["title"] == title)


@transaction.atomic
def demo_dashboards_ensure() -> None:
    """Create the demo dashboards if missing (an existing one is left as its users edited it) and share
    them (view) with the demo users that exist."""
    owner = User.objects.filter(username="admin").first()
    data = demo_dashboards_data()
    for board in data["dashboards"]:
        slug, title, description = board["slug"], board["title"], board["description"]
        dashboard = Dashboard.objects.filter(slug=slug).first()
        if dashboard is None:
            dashboard = dashboard_create(title=title, owner=owner, description=description, slug=slug)
            for position, spec in enumerate(demo_widgets(slug), start=1):
                if spec["view_name"] not in KPI_VIEWS:
                    logger.warning("demo widget %s skipped: no KPI view %s", spec["title"], spec["view_name"])
                    continue
                try:
                    widget_create(dashboard=dashboard, position=position, **spec)
                except ValidationError as exc:
                    logger.warning("demo widget %s skipped: %s", spec["title"], "; ".join(exc.messages))
        for username in data["viewers"]:
            if User.objects.filter(username=username).exists():
                dashboard_share(dashboard=dashboard, level="view", username=username)
