"""The site menu's choices for a user: only the pages their role may open (no link that ends in a 403)."""

from __future__ import annotations

from django import template

from accounts.selectors import user_can_manage_data
from dashboards.views_status import user_can_see_kpi_status

register = template.Library()


@register.simple_tag
def site_menu(user) -> dict[str, bool]:
    """What the layout and the home page may offer: uploads and mappings, the KPI status page."""
    if not getattr(user, "is_authenticated", False):
        return {"manage_data": False, "kpi_status": False}
    manage_data = user_can_manage_data(user)
    return {"manage_data": manage_data, "kpi_status": user_can_see_kpi_status(user, manage_data)}
