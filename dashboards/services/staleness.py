"""Staleness alerts: a view older than its maximum staleness, or failing repeatedly, raises one alert."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from dashboards.kpi.freshness import FAILURES_BEFORE_ALERT
from dashboards.kpi.registry import public_views
from dashboards.models import KpiAlert, KpiViewState

logger = logging.getLogger(__name__)


def alert_recipients() -> list[str]:
    """KPI_ALERT_EMAILS when set, else the e-mail addresses of active superusers."""
    configured = list(settings.KPI_ALERT_EMAILS)
    if configured:
        return configured
    users = get_user_model().objects.filter(is_active=True, is_superuser=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def _problem(view, state: KpiViewState | None, now: datetime) -> tuple[str, str] | None:
    if state is not None and state.consecutive_failures >= FAILURES_BEFORE_ALERT:
        return KpiAlert.Kind.FAILING, (
            f"KPI view {view.name} failed {state.consecutive_failures} refreshes in a row: {state.last_error}"
        )
    if state is None or state.last_success_at is None:
        return KpiAlert.Kind.STALE, f"KPI view {view.name} has never been refreshed."
    age = now - state.last_success_at
    if age > view.max_staleness:
        hours = age.total_seconds() / 3600
        return KpiAlert.Kind.STALE, (
            f"KPI view {view.name} was last refreshed {hours:.1f} h ago "
            f"(maximum {view.max_staleness.total_seconds() / 3600:.0f} h)."
        )
    return None


@transaction.atomic
def kpi_staleness_check(*, now: datetime | None = None) -> list[KpiAlert]:
    """Raise an alert (and send one e-mail) per newly stale or failing view; resolve alerts of healthy views.

    Returns the alerts raised by this check. An open alert is not raised again, so a view that stays stale
    sends one e-mail, not one per check.
    """
    now = now or timezone.now()
    states = {s.view_name: s for s in KpiViewState.objects.all()}
    open_alerts = {(a.view_name, a.kind): a for a in KpiAlert.objects.filter(resolved_at__isnull=True)}
    raised: list[KpiAlert] = []
    for view in public_views():
        problem = _problem(view, states.get(view.name), now)
        for (name, kind), alert in open_alerts.items():
            if name == view.name and (problem is None or problem[0] != kind):
                alert.resolved_at = now
                alert.save(update_fields=["resolved_at"])
        if problem and (view.name, problem[0]) not in open_alerts:
            raised.append(KpiAlert.objects.create(view_name=view.name, kind=problem[0], message=problem[1]))
    recipients = alert_recipients()
    if raised and recipients:
        body = "\n".join(a.message for a in raised)
        try:
            send_mail(
                subject=f"[Ledgerlight] {len(raised)} KPI view alert(s)",
                message=body + "\n\nSee /dashboards/status/ for every view's freshness.",
                from_email=None,
                recipient_list=recipients,
            )
        except Exception as exc:  # the alerts still stand (admin, banner); `emailed` stays false
            logger.error("could not e-mail KPI alerts to %s: %s", ", ".join(recipients), exc)
        else:
            KpiAlert.objects.filter(pk__in=[a.pk for a in raised]).update(emailed=True)
    for alert in raised:
        logger.warning("%s", alert.message)
    return raised
