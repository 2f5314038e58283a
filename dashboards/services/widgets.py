"""Widgets: build a Vega-Lite spec from a KPI view and fields, validate specs, create and change widgets."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from dashboards.kpi.query import kpi_query_build
from dashboards.kpi.question import question_build
from dashboards.kpi.registry import KPI_VIEWS, KpiView, public_views
from dashboards.models import Dashboard, Widget
from dashboards.models.dashboard import parse_interval

ChartType = Widget.ChartType
DATA_SOURCE_TYPES = {"materialized_view", "kpi_view"}
_VEGA_TYPES = {"date": "temporal", "text": "nominal", "integer": "quantitative", "money": "quantitative"}


def _field_type(view: KpiView, name: str) -> str:
    kind = view.columns.get(name, "text")
    if name.endswith("_id") and kind == "integer":
        return "nominal"  # an employee or customer id is a category, not a quantity
    return _VEGA_TYPES.get(kind, "quantitative" if kind == "number" else "nominal")


def widget_spec_build(*, chart_type: str, view_name: str, x: str = "", y: str = "", color: str = "") -> dict:
    """A Vega-Lite spec for a chart type over a KPI view's columns (the widget editor's simple mode)."""
    view = KPI_VIEWS.get(view_name)
    if view is None:
        raise ValidationError(f"unknown KPI view {view_name!r}")
    if chart_type == ChartType.TABLE:
        return {"columns": [c for c in (x, y, color) if c] or list(view.columns)}
    if chart_type == ChartType.NUMBER:
        if not y:
            raise ValidationError("a single-number widget needs a value field (y)")
        return {"mark": "text", "encoding": {"text": {"field": y, "type": "quantitative", "aggregate": "sum"}}}
    if chart_type not in (ChartType.LINE, ChartType.BAR, ChartType.AREA):
        raise ValidationError(f"chart type {chart_type!r} has no simple mode; use the raw spec editor")
    if not (x and y):
        raise ValidationError("a chart needs an x field and a y field")
    x_type = _field_type(view, x)
    encoding: dict[str, Any] = {
        "x": {"field": x, "type": x_type, "title": x.replace("_", " ")},
        "y": {"field": y, "type": "quantitative", "aggregate": "sum", "title": y.replace("_", " ")},
        "tooltip": [
            {"field": x, "type": x_type},
            {"field": y, "type": "quantitative", "aggregate": "sum", "format": ",.2f"},
        ],
    }
    if x_type == "temporal":
        encoding["x"]["timeUnit"] = "yearmonth"
        encoding["tooltip"][0]["timeUnit"] = "yearmonth"
    elif chart_type == ChartType.BAR:
        encoding["x"]["sort"] = "-y"
    if color:
        encoding["color"] = {"field": color, "type": _field_type(view, color)}
    return {"mark": {"type": chart_type, "tooltip": True}, "encoding": encoding}


def widget_query_build(*, chart_type: str, view_name: str, x: str = "", y: str = "", color: str = "") -> dict:
    """Query options that sum in SQL what a simple chart sums anyway (one row per x / color, not per rep).

    Keeps a chart's payload proportional to what it draws, whatever the view's size.
    """
    view = KPI_VIEWS.get(view_name)
    if view is None or not y or view.columns.get(y) not in ("money", "integer", "number"):
        return {}
    if chart_type == ChartType.NUMBER:
        return {"measures": [y]}
    if chart_type in (ChartType.LINE, ChartType.BAR, ChartType.AREA) and x in view.columns and x != y:
        group_by = [x] + ([color] if color and color in view.columns and color not in (x, y) else [])
        return {"group_by": group_by, "measures": [y], "order_by": [x]}
    return {}


def _encoded_fields(node: Any, found: set[str]) -> None:
    """Every `field` an encoding refers to, at any depth (layers, tooltips, sorts, conditions)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "field" and isinstance(value, str):
                found.add(value.split(".")[0])
            else:
                _encoded_fields(value, found)
    elif isinstance(node, list):
        for item in node:
            _encoded_fields(item, found)


def _derived_fields(spec: Any, found: set[str]) -> None:
    """Names a spec's own transforms define (`as`), which encodings may use besides view columns."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "as":
                found.update([value] if isinstance(value, str) else [v for v in value if isinstance(v, str)])
            else:
                _derived_fields(value, found)
    elif isinstance(spec, list):
        for item in spec:
            _derived_fields(item, found)


# Data a spec could bring itself instead of its KPI view's rows: inline values (figures typed into the spec would
# show under a KPI title), a URL, or a generator.
_OWN_DATA_KEYS = ("values", "url", "sequence", "sphere", "graticule")


def _refuse_external_data(spec: Any) -> None:
    if isinstance(spec, dict):
        data = spec.get("data")
        if isinstance(data, dict) and "url" in data:
            raise ValidationError("the spec may not load data from a URL: its data is the widget's KPI view")
        if isinstance(data, dict) and any(key in data for key in _OWN_DATA_KEYS):
            raise ValidationError(
                "the spec may not bring its own data (data.values or a generator): its data is the widget's KPI view"
            )
        if data is not None and not isinstance(data, dict):
            raise ValidationError("the spec's data must be an object naming no data of its own")
        if "datasets" in spec:
            raise ValidationError("the spec may not bring its own datasets: its data is the widget's KPI view")
        for value in spec.values():
            _refuse_external_data(value)
    elif isinstance(spec, list):
        for item in spec:
            _refuse_external_data(item)


def widget_validate(*, chart_type: str, vega_spec: Any, data_source: Any) -> None:
    """Raise ValidationError (all problems, each specific) unless the widget can be drawn from its view."""
    errors: list[str] = []
    if not isinstance(data_source, dict):
        raise ValidationError("data_source must be an object with type, view_name and refresh_interval")
    if data_source.get("type", "materialized_view") not in DATA_SOURCE_TYPES:
        errors.append(f"data_source.type must be one of {', '.join(sorted(DATA_SOURCE_TYPES))}")
    view = KPI_VIEWS.get(str(data_source.get("view_name", "")))
    if view is not None and view.internal:
        view = None  # the refresh engine's helpers are not for dashboards
    if view is None:
        errors.append(
            f"view {data_source.get('view_name')!r} is not in the KPI registry; known: "
            + ", ".join(sorted(v.name for v in public_views()))
        )
    try:
        parse_interval(data_source.get("refresh_interval") or "1h")
    except ValidationError as exc:
        errors.extend(exc.messages)
    if chart_type not in ChartType.values:
        errors.append(f"chart type {chart_type!r} is not one of {', '.join(ChartType.values)}")
    if not isinstance(vega_spec, dict):
        errors.append("the spec must be a JSON object")
    question = None
    if view is not None and "question" in (data_source.get("filters") or {}):
        try:
            question = question_build(payload=data_source["filters"]["question"])
        except ValidationError as exc:
            errors.extend(f"question: {m}" for m in exc.messages)
        else:
            if question.view.name != view.name:
                errors.append("the question's source must be the widget's view")
    elif view is not None:
        try:
            kpi_query_build(view_name=view.name, options=data_source.get("filters") or {})
        except ValidationError as exc:
            errors.extend(f"filters: {m}" for m in exc.messages)
    if errors or view is None:
        raise ValidationError(errors)
    try:
        _refuse_external_data(vega_spec)
    except ValidationError as exc:
        errors.extend(exc.messages)
    fields: set[str] = set()
    if chart_type == ChartType.TABLE:
        columns = vega_spec.get("columns") or []
        if not isinstance(columns, list):
            errors.append("a table's columns must be a list")
        fields.update(c for c in columns if isinstance(c, str))
    else:
        if chart_type == ChartType.VEGA and not any(
            k in vega_spec for k in ("mark", "layer", "concat", "hconcat", "vconcat", "facet", "repeat")
        ):
            errors.append("a Vega-Lite spec needs a mark (or a layer / concat)")
        _encoded_fields({k: v for k, v in vega_spec.items() if k != "transform"}, fields)
        if chart_type == ChartType.NUMBER and not fields:
            errors.append("a single-number widget needs encoding.text.field")
    allowed = set(view.columns) if question is None else {c["name"] for c in question.columns()}
    options = data_source.get("filters") or {}
    derived: set[str] = set()
    _derived_fields(vega_spec, derived)
    unknown = sorted(f for f in fields if f not in allowed and f not in derived)
    if question is None and (options.get("group_by") or options.get("measures")):
        grouped = set(options.get("group_by") or []) | set(options.get("measures") or [])
        unknown += sorted(f for f in fields if f in allowed and f not in grouped)
    if unknown:
        errors.append(f"field(s) {', '.join(unknown)} are not columns of the rows of KPI view {view.name}")
    if errors:
        raise ValidationError(errors)


def widget_spec_parse(text: str) -> dict:
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"the spec is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(spec, dict):
        raise ValidationError("the spec must be a JSON object")
    return spec


def _validated_data_source(
    *, chart_type: str, vega_spec: dict, view_name: str, refresh_interval: str, query_options: dict | None
) -> dict:
    """A widget's data_source as stored, after `widget_validate` accepted it with the spec."""
    data_source = {
        "type": "materialized_view",
        "view_name": view_name,
        "refresh_interval": refresh_interval,
        "filters": query_options or {},
    }
    widget_validate(chart_type=chart_type, vega_spec=vega_spec, data_source=data_source)
    return data_source


@transaction.atomic
def widget_create(
    *,
    dashboard: Dashboard,
    title: str,
    chart_type: str,
    view_name: str,
    vega_spec: dict,
    refresh_interval: str = "1h",
    query_options: dict | None = None,
    width: int = 6,
    height: int = 1,
    position: int | None = None,
) -> Widget:
    """Add a validated widget to a dashboard (at the end unless a position is given)."""
    data_source = _validated_data_source(
        chart_type=chart_type,
        vega_spec=vega_spec,
        view_name=view_name,
        refresh_interval=refresh_interval,
        query_options=query_options,
    )
    if position is None:
        position = (dashboard.widgets.aggregate(m=Max("position"))["m"] or 0) + 1
    return Widget.objects.create(
        dashboard=dashboard,
        title=title.strip() or view_name,
        chart_type=chart_type,
        vega_spec=vega_spec,
        data_source=data_source,
        width=max(1, min(12, width)),
        height=max(1, min(4, height)),
        position=position,
    )


@transaction.atomic
def widget_update(
    *,
    widget: Widget,
    title: str,
    chart_type: str,
    view_name: str,
    vega_spec: dict,
    refresh_interval: str,
    query_options: dict | None = None,
    width: int | None = None,
    height: int | None = None,
) -> Widget:
    """Change a widget after validating the new spec and data source."""
    data_source = _validated_data_source(
        chart_type=chart_type,
        vega_spec=vega_spec,
        view_name=view_name,
        refresh_interval=refresh_interval,
        query_options=query_options,
    )
    widget.title = title.strip() or view_name
    widget.chart_type = chart_type
    widget.vega_spec = vega_spec
    widget.data_source = data_source
    if width is not None:
        widget.width = max(1, min(12, width))
    if height is not None:
        widget.height = max(1, min(4, height))
    widget.save()
    return widget


@transaction.atomic
def widget_delete(*, widget: Widget) -> None:
    widget.delete()
