"""Forms: the widget editor's input and the admin's widget check (both end in `widget_validate`)."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError

from dashboards.kpi.question import MAX_LIMIT, column_kind, measure_columns, question_build, question_fields
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Widget
from dashboards.services.questions import QUESTION_CHART_TYPES
from dashboards.services.widgets import widget_query_build, widget_spec_build, widget_spec_parse, widget_validate

DEFAULT_WIDTH = 6


class WidgetEditorForm(forms.Form):
    """The widget editor: a KPI view, a chart type and its fields, or a raw Vega-Lite spec for experts.

    Valid, `cleaned_data["widget"]` holds the keyword arguments of `widget_create` / `widget_update`, which
    check them against the KPI registry (their messages come back as the form's errors).
    """

    title = forms.CharField(max_length=200, required=False)
    view_name = forms.CharField(required=False)
    chart_type = forms.CharField(required=False)
    x = forms.CharField(required=False)
    y = forms.CharField(required=False)
    color = forms.CharField(required=False)
    refresh_interval = forms.CharField(required=False)
    width = forms.CharField(required=False)
    raw_spec = forms.CharField(required=False, strip=True)
    query_options = forms.CharField(required=False)
    use_raw = forms.BooleanField(required=False)

    @classmethod
    def initial_for(cls, widget: Widget | None) -> dict:
        """The editor's starting values: a new widget's defaults, or what the widget holds."""
        if widget is None:
            return {"refresh_interval": "1h", "width": str(DEFAULT_WIDTH), "chart_type": "line"}
        encoding = widget.vega_spec.get("encoding") or {}
        options = widget.query_options
        return {
            "title": widget.title,
            "view_name": widget.view_name,
            "chart_type": widget.chart_type,
            "x": (encoding.get("x") or {}).get("field", ""),
            "y": ((encoding.get("y") or encoding.get("text")) or {}).get("field", ""),
            "color": (encoding.get("color") or {}).get("field", ""),
            "refresh_interval": widget.data_source.get("refresh_interval", "1h"),
            "width": str(widget.width),
            "raw_spec": json.dumps(widget.vega_spec, indent=2),
            "query_options": json.dumps(options) if options else "",
        }

    def values(self) -> dict:
        """What the page shows in its inputs: the posted text when bound, else the initial values."""
        if self.is_bound:
            return {name: (self.data.get(name) or "").strip() for name in self.fields if name != "use_raw"}
        return dict(self.initial)

    def clean_query_options(self) -> dict | None:
        text = self.cleaned_data["query_options"]
        if not text:
            return None
        try:
            options = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"query options are not valid JSON: {exc.msg}") from None
        if not isinstance(options, dict):
            raise ValidationError("query options must be a JSON object")
        return options

    def clean_width(self) -> int:
        text = self.cleaned_data["width"]
        # ASCII digits only: str.isdigit() accepts '²', which int() refuses (a 500).
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else DEFAULT_WIDTH

    def clean(self) -> dict:
        data = super().clean()
        fields = {
            "chart_type": data.get("chart_type", ""),
            "view_name": data.get("view_name", ""),
            "x": data.get("x", ""),
            "y": data.get("y", ""),
            "color": data.get("color", ""),
        }
        raw = data.get("raw_spec", "")
        try:
            if raw and (fields["chart_type"] == Widget.ChartType.VEGA or data.get("use_raw")):
                spec = widget_spec_parse(raw)
            else:
                spec = widget_spec_build(**fields)
        except ValidationError as exc:
            self.add_error(None, exc)
            return data
        if self.errors:
            return data
        options = data.get("query_options")
        data["widget"] = {
            "title": data.get("title", ""),
            "chart_type": fields["chart_type"],
            "view_name": fields["view_name"],
            "vega_spec": spec,
            "refresh_interval": data.get("refresh_interval") or "1h",
            "query_options": options if options is not None else widget_query_build(**fields),
            "width": data.get("width", DEFAULT_WIDTH),
        }
        return data

    def messages(self) -> list[str]:
        """Every error of the form as one list, in the order the editor shows them."""
        return [message for errors in self.errors.values() for message in errors]


class WidgetAdminForm(forms.ModelForm):
    """The admin's widget form: the same check as the editor and the API (`widget_validate`)."""

    class Meta:
        model = Widget
        fields = ["dashboard", "title", "chart_type", "position", "width", "height", "vega_spec", "data_source"]

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors:
            widget_validate(
                chart_type=data.get("chart_type"), vega_spec=data.get("vega_spec"), data_source=data.get("data_source")
            )
        return data


class QuestionBuilderForm(forms.Form):
    """The question builder: source, up to two dimensions, a measure, up to two filters, sort, limit, chart.

    Valid, `cleaned_data["question"]` is the checked `Question`; `question_build`'s refusals come back on the
    field they name. A change of source drops the picks that belonged to the previous one.
    """

    DIMENSIONS = 2
    FILTERS = 2

    source = forms.CharField(max_length=100)
    shown_source = forms.CharField(max_length=100, required=False)  # the source the other fields were shown for
    dimension_1 = forms.CharField(max_length=100, required=False)
    bucket_1 = forms.CharField(max_length=20, required=False)
    dimension_2 = forms.CharField(max_length=100, required=False)
    bucket_2 = forms.CharField(max_length=20, required=False)
    measure_column = forms.CharField(max_length=100, required=False)
    measure_agg = forms.CharField(max_length=20, required=False)
    filter_column_1 = forms.CharField(max_length=100, required=False)
    filter_op_1 = forms.CharField(max_length=10, required=False)
    filter_value_1 = forms.CharField(max_length=500, required=False)
    filter_column_2 = forms.CharField(max_length=100, required=False)
    filter_op_2 = forms.CharField(max_length=10, required=False)
    filter_value_2 = forms.CharField(max_length=500, required=False)
    sort = forms.CharField(max_length=110, required=False)
    limit = forms.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False)
    chart_type = forms.CharField(max_length=20, required=False)

    def values(self) -> dict:
        return {name: (self.data.get(name) or "").strip() for name in self.fields} if self.is_bound else {}

    def clean_chart_type(self) -> str:
        value = self.cleaned_data["chart_type"]
        if value and value not in QUESTION_CHART_TYPES:
            raise ValidationError(f"chart type must be one of {', '.join(QUESTION_CHART_TYPES)}")
        return value

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        source = data["source"]
        view = KPI_VIEWS.get(source)
        if data.get("shown_source") and data["shown_source"] != source and view is not None:
            self._start_over(data, view)
        payload, slots = self._payload(data, view)
        try:
            data["question"] = question_build(payload=payload)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(self._form_field(field, slots), messages)
        return data

    def _start_over(self, data: dict, view) -> None:
        """A new source: its own first measure, none of the previous source's columns."""
        for name in self.fields:
            if name.startswith(("dimension_", "bucket_", "filter_")) or name in ("sort", "measure_column"):
                data[name] = ""
        measures = measure_columns(view)
        data["measure_column"] = measures[0] if measures else ""
        data["measure_agg"] = "sum" if measures else "count"
        self.data = self.data.copy()
        for name in self.fields:
            if name.startswith(("dimension_", "bucket_", "filter_", "measure_")) or name == "sort":
                self.data[name] = data[name]

    def _payload(self, data: dict, view) -> tuple[dict, dict]:
        """The API's question from the form's fields, and which form field each list item came from."""
        slots: dict[str, str] = {}
        dimensions = []
        for n in range(1, self.DIMENSIONS + 1):
            if data.get(f"dimension_{n}"):
                slots[f"dimensions[{len(dimensions)}]"] = str(n)
                dimensions.append({"column": data[f"dimension_{n}"], "bucket": data.get(f"bucket_{n}") or None})
        measures = []
        if data.get("measure_column") or data.get("measure_agg") == "count":
            measures.append({"column": data.get("measure_column") or None, "agg": data.get("measure_agg") or "sum"})
        filters = []
        fields = (
            question_fields(view) if view is not None and any(data.get(f"filter_column_{n}") for n in (1, 2)) else {}
        )
        for n in range(1, self.FILTERS + 1):
            if data.get(f"filter_column_{n}"):
                slots[f"filters[{len(filters)}]"] = str(n)
                column, op = data[f"filter_column_{n}"], data.get(f"filter_op_{n}") or "="
                filters.append(
                    {
                        "column": column,
                        "op": op,
                        "value": _typed_text(fields, column, op, data.get(f"filter_value_{n}")),
                    }
                )
        payload = {"source": data["source"], "dimensions": dimensions, "measures": measures, "filters": filters}
        if data.get("sort"):
            payload["sort"] = [data["sort"]]
        if data.get("limit"):
            payload["limit"] = data["limit"]
        return payload, slots

    @staticmethod
    def _form_field(field: str, slots: dict[str, str]) -> str | None:
        """The form field a `question_build` error names ("filters[1].value" -> "filter_value_2")."""
        head, _, rest = field.partition(".")
        if head in ("source", "sort", "limit") or head.startswith("sort["):
            return head.split("[")[0]
        if head.startswith("measures"):
            return "measure_agg" if rest == "agg" else "measure_column"
        n = slots.get(head)
        if n and head.startswith("dimensions"):
            return f"bucket_{n}" if rest == "bucket" else f"dimension_{n}"
        if n and head.startswith("filters"):
            kind = rest.split("[")[0] or "column"
            return f"filter_{kind}_{n}" if kind in ("column", "op", "value") else f"filter_column_{n}"
        return None


def _typed_text(fields: dict[str, str], column: str, op: str, text: str | None) -> object:
    """A filter value typed as the page's text box can: numbers for numeric columns, lists for in / between."""
    text = (text or "").strip()
    if op in ("in", "between"):
        return [_typed_one(fields, column, part.strip()) for part in text.split(",") if part.strip()]
    return _typed_one(fields, column, text)


def _typed_one(fields: dict[str, str], column: str, text: str) -> object:
    if column not in fields:
        return text
    kind = column_kind(fields, column)
    if kind in ("id", "numeric"):
        try:
            return int(text) if text.lstrip("-").isascii() and text.lstrip("-").isdigit() else float(text)
        except ValueError:
            return text  # refused by question_build, on this field
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text


class DrillForm(forms.Form):
    """A click on a widget (`field`: one of its dimensions, `value`: the clicked value) and a page of its rows."""

    field = forms.CharField(max_length=100, required=False)
    value = forms.CharField(max_length=200, required=False)
    page = forms.IntegerField(min_value=1, max_value=200, required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("field") and not data.get("value"):
            self.add_error("value", "a clicked field needs its value")
        return data
