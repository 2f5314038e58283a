"""Dashboards and their widgets. Who may view or change a dashboard is a guardian object permission."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MIN_REFRESH_INTERVAL = timedelta(seconds=10)


def parse_interval(text: str) -> timedelta:
    """'30s', '15m', '1h', '1d' -> timedelta. Raises ValidationError with the reason otherwise."""
    match = _INTERVAL.match(str(text or ""))
    if not match:
        raise ValidationError(
            f"refresh interval {text!r} does not parse: use a number and a unit s, m, h or d, e.g. '15m' or '1h'"
        )
    interval = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if interval < MIN_REFRESH_INTERVAL:
        raise ValidationError(f"refresh interval {text!r} is shorter than the minimum of 10s")
    return interval


class Dashboard(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="dashboards"
    )
    layout = models.JSONField(default=dict, blank=True, help_text='Grid settings, e.g. {"columns": 12}.')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "dashboards"
        ordering = ["title"]
        # Django's default view_/change_/add_/delete_ permissions are granted per object with guardian.

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("dashboards:detail", kwargs={"slug": self.slug})


class Widget(models.Model):
    """One chart on a dashboard: a Vega-Lite spec over one KPI view (`data_source.view_name`)."""

    class ChartType(models.TextChoices):
        LINE = "line"
        BAR = "bar"
        AREA = "area"
        TABLE = "table"
        NUMBER = "number", "Single number (KPI)"
        VEGA = "vega", "Raw Vega-Lite spec"

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="widgets")
    title = models.CharField(max_length=200)
    chart_type = models.CharField(max_length=16, choices=ChartType.choices, default=ChartType.LINE)
    position = models.PositiveIntegerField(default=0)
    width = models.PositiveSmallIntegerField(default=6, help_text="Grid columns out of 12.")
    height = models.PositiveSmallIntegerField(default=1, help_text="Grid rows (1 row is about 320px).")
    vega_spec = models.JSONField(default=dict, blank=True)
    data_source = models.JSONField(
        default=dict,
        help_text='{"type": "materialized_view", "view_name": ..., "refresh_interval": "1h", "filters": {...}}',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "dashboard_widgets"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def view_name(self) -> str:
        return str(self.data_source.get("view_name", ""))

    @property
    def refresh_interval(self) -> timedelta:
        return parse_interval(self.data_source.get("refresh_interval") or "1h")

    @property
    def query_options(self) -> dict:
        return dict(self.data_source.get("filters") or {})
