from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.selectors import user_row_scope
from dashboards.kpi.registry import public_views
from dashboards.models import KpiViewState, RefreshJob
from tests.dashboards.kpi_helpers import scalar

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def test_seed_demo_builds_every_view_and_monthly_revenue_reaches_the_contract_figures():
    call_command("seed_demo", stdout=io.StringIO())

    for view in public_views():
        state = KpiViewState.objects.get(view_name=view.name)
        assert state.last_success_at is not None, view.name
        assert RefreshJob.objects.filter(view_name=view.name, status="succeeded").exists()
    assert scalar("SELECT round(sum(revenue), 2) FROM monthly_revenue") == Decimal("1265793.04")
    assert scalar("SELECT sum(order_count) FROM monthly_revenue") == 830
    for username, figure in (("buchanan", "344581.71"), ("davolio", "192107.60")):
        ids = list(user_row_scope(User.objects.get(username=username)).employee_ids)
        revenue = scalar("SELECT round(sum(revenue), 2) FROM monthly_revenue WHERE sales_rep_id = ANY(%s)", [ids])
        assert revenue == Decimal(figure), username
    assert scalar("SELECT count(DISTINCT customer_id) FROM top_customers") == 89
    assert scalar("SELECT count(DISTINCT product_id) FROM top_products") == 77
