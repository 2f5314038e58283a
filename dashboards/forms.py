"""Forms: the widget editor's input and the admin's widget check (both end in `widget_validate`)."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError

from dashboards.models import Widget
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
