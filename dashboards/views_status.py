"""The KPI status page: every view's last refresh, duration, rows, freshness and next run."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import user_can_manage_data
from dashboards.kpi.freshness import kpi_views_status


def user_can_see_kpi_status(user, manages_data: bool | None = None) -> bool:
    """Refresh health is operations data: staff, executives, analysts and admins. `manages_data`: the caller's
    `user_can_manage_data(user)` when it has it already (the site menu: one query for the user's roles, not two)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return bool(user.is_staff or (user_can_manage_data(user) if manages_data is None else manages_data))


@login_required
def kpi_status(request: HttpRequest) -> HttpResponse:
    if not user_can_see_kpi_status(request.user):
        raise PermissionDenied("Only staff, executives and analysts may see the KPI refresh status.")
    rows = kpi_views_status()
    context = {"rows": rows, "stale_count": sum(1 for r in rows if r["is_stale"])}
    template = "dashboards/status.html#status_table" if request.htmx else "dashboards/status.html"
    return render(request, template, context)
