from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from dashboards.kpi.freshness import FAILURES_BEFORE_ALERT, kpi_view_freshness
from dashboards.kpi.registry import get_view, public_views
from dashboards.models import KpiAlert, KpiViewState
from dashboards.services.refresh import kpi_views_refresh_all
from dashboards.services.staleness import kpi_staleness_check
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(db):
    UserFactory(username="ops", email="ops@example.com", is_superuser=True, is_staff=True)
    kpi_views_refresh_all(full=True)


def test_a_freshly_refreshed_view_is_fresh(built):
    freshness = kpi_view_freshness("monthly_revenue")
    assert freshness["is_stale"] is False
    assert freshness["refreshed_at"] is not None and freshness["last_error"] == "" and freshness["alert"] is None


def test_a_view_never_refreshed_is_stale(db):
    assert kpi_view_freshness("monthly_revenue")["is_stale"] is True
    assert kpi_view_freshness("monthly_revenue")["refreshed_at"] is None


def test_a_view_older_than_its_maximum_staleness_raises_one_alert_and_one_email(built):
    later = timezone.now() + get_view("ar_aging").max_staleness + timedelta(minutes=1)

    raised = kpi_staleness_check(now=later)

    stale = {a.view_name for a in raised}
    assert "ar_aging" in stale and "monthly_revenue" not in stale  # hourly view stale, nightly one not yet
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.com"]
    assert "ar_aging" in mail.outbox[0].body
    assert kpi_view_freshness("ar_aging", now=later)["alert"].startswith("KPI view ar_aging was last refreshed")

    assert kpi_staleness_check(now=later) == []  # still stale: no second alert, no second e-mail
    assert len(mail.outbox) == 1


def test_a_refreshed_view_resolves_its_alert(built):
    later = timezone.now() + timedelta(days=3)
    kpi_staleness_check(now=later)
    assert KpiAlert.objects.filter(view_name="monthly_revenue", resolved_at__isnull=True).exists()

    KpiViewState.objects.update(last_success_at=later)
    kpi_staleness_check(now=later)

    assert not KpiAlert.objects.filter(resolved_at__isnull=True).exists()


def test_a_view_failing_repeatedly_raises_a_failing_alert(built):
    KpiViewState.objects.filter(view_name="top_products").update(
        consecutive_failures=FAILURES_BEFORE_ALERT, last_error="DataError: numeric field overflow"
    )

    raised = kpi_staleness_check()

    assert [(a.view_name, a.kind) for a in raised] == [("top_products", "failing")]
    assert "numeric field overflow" in raised[0].message
    freshness = kpi_view_freshness("top_products")
    assert freshness["is_stale"] is True and freshness["last_error"] == "DataError: numeric field overflow"


def test_alerts_go_to_the_configured_addresses(built, settings):
    settings.KPI_ALERT_EMAILS = ["data-team@example.com"]
    kpi_staleness_check(now=timezone.now() + timedelta(days=3))
    assert mail.outbox[0].to == ["data-team@example.com"]
    assert len(KpiAlert.objects.filter(emailed=True)) == len(public_views())


def test_freshness_of_an_unknown_view_is_an_error(db):
    with pytest.raises(KeyError, match="unknown KPI view"):
        kpi_view_freshness("nope")


def test_alerts_stand_when_the_mail_server_is_down(built, monkeypatch):
    from dashboards.services import staleness

    def refuse(**kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(staleness, "send_mail", refuse)
    raised = kpi_staleness_check(now=timezone.now() + timedelta(days=3))
    assert raised and not KpiAlert.objects.filter(emailed=True).exists()
    assert KpiAlert.objects.filter(resolved_at__isnull=True).count() == len(raised)
