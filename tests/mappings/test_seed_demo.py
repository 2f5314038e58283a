from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import User
from accounts.selectors import user_row_scope
from canonical.models import Customer, Employee, Order, OrderLine, Product
from mappings.models import DataSource, ExecutionJob


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def _revenue(employee_ids=None) -> Decimal:
    sql = (
        "SELECT round(sum(l.unit_price * l.quantity * (1 - l.discount)), 2) FROM canonical_order_lines l "
        "JOIN canonical_orders o ON o.id = l.order_id"
    )
    params = []
    if employee_ids is not None:
        sql += " WHERE o.sales_rep_id = ANY(%s)"
        params = [list(employee_ids)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_seed_demo_reaches_the_contract_figures(db):
    call_command("seed_demo", stdout=io.StringIO())

    assert Customer.objects.count() == 91
    assert Order.objects.count() == 830
    assert OrderLine.objects.count() == 2155
    assert Product.objects.count() == 77
    assert Employee.objects.count() == 9
    assert not Customer.objects.filter(is_placeholder=True).exists()
    assert _revenue() == Decimal("1265793.04")
    buchanan = User.objects.get(username="buchanan")
    davolio = User.objects.get(username="davolio")
    assert buchanan.employee.external_id == "5"
    assert _revenue(user_row_scope(buchanan).employee_ids) == Decimal("344581.71")
    assert _revenue(user_row_scope(davolio).employee_ids) == Decimal("192107.60")
    assert User.objects.get(username="fuller").employee.external_id == "2"


def test_seed_demo_builds_the_manager_hierarchy_and_order_amounts(db):
    call_command("seed_demo", stdout=io.StringIO())

    managers = dict(Employee.objects.values_list("external_id", "manager__external_id"))
    assert managers == {"1": "2", "2": None, "3": "2", "4": "2", "5": "2", "6": "5", "7": "5", "8": "2", "9": "5"}
    order = Order.objects.get(external_id="10248")
    assert order.amount == Decimal("440.00")
    assert order.amount_from_lines
    assert order.customer.external_id == "VINET"
    assert order.sales_rep.external_id == "5"
    assert str(order.order_date) == "1996-07-04"


def test_second_seed_demo_changes_nothing(db):
    call_command("seed_demo", stdout=io.StringIO())
    sources, jobs = DataSource.objects.count(), ExecutionJob.objects.count()
    orders = list(Order.objects.order_by("pk").values())

    call_command("seed_demo", stdout=io.StringIO())

    assert DataSource.objects.count() == sources
    assert ExecutionJob.objects.count() == jobs
    assert list(Order.objects.order_by("pk").values()) == orders


def test_the_demo_uploads_belong_to_the_executive_so_that_he_sees_them_under_uploads(db, client):
    call_command("seed_demo", stdout=io.StringIO())

    fuller = User.objects.get(username="fuller")
    assert DataSource.objects.exists()
    assert set(DataSource.objects.values_list("uploaded_by__username", flat=True)) == {"fuller"}
    client.force_login(fuller)
    page = client.get("/uploads/").content.decode()
    for source in DataSource.objects.all():
        assert f"/uploads/{source.pk}/" in page


def test_a_reseed_adopts_demo_uploads_that_were_seeded_without_an_owner(db):
    call_command("seed_demo", stdout=io.StringIO())
    DataSource.objects.update(uploaded_by=None)  # as seeded before the demo uploads had an owner
    sources, jobs = DataSource.objects.count(), ExecutionJob.objects.count()

    call_command("seed_demo", stdout=io.StringIO())

    assert (DataSource.objects.count(), ExecutionJob.objects.count()) == (sources, jobs)
    assert not DataSource.objects.filter(uploaded_by__isnull=True).exists()
