"""Dates and times on server-rendered pages as the viewer writes them (dashboards.viewer_format)."""

from __future__ import annotations

from datetime import date, datetime

from django import template

from dashboards.viewer_format import viewer_format_for

register = template.Library()


@register.simple_tag(takes_context=True)
def viewer_date(context, value: date | datetime | None, with_time: bool = False) -> str:
    """`value` in the viewer's format (its Accept-Language); a moment with its time when `with_time`."""
    if value in (None, ""):
        return ""
    fmt = viewer_format_for(context["request"])
    return fmt.moment(value) if with_time and isinstance(value, datetime) else fmt.date(value)
