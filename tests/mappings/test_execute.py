from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from django.db import connection

from canonical.models import Customer, Employee, Expense, Order, OrderLine, Product
from mappings.models import ExecutionJob, RejectedRow
from mappings.services.execute import ADVISORY_LOCK_CLASS, execution_run_now, transform_preview
from mappings.signals import execution_committed
from tests.mappings.helpers import field, run, save, upload_text


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture(autouse=True, params=["row by row", "bulk"])
def load_mode(request, settings):
    """Every behaviour holds both ways a table is written: row by row (the default for small files) and
    as a bulk load (indexes and foreign keys dropped and rebuilt, upsert.py), forced here for any size."""
    if request.param == "bulk":
        settings.EXECUTION_BULK_MIN_ROWS = 1
    return request.param


CUSTOMERS = "id;name;city\nK1;Müller GmbH;Köln\nK2;Café Zoë;Genève\n"
CUSTOMER_FIELDS = [
    field("id", "canonical_customers", "external_id"),
    field("name", "canonical_customers", "name"),
    field("city", "canonical_customers", "city"),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_each_encoding_loads_the_same_text(db, tmp_path, encoding):
    source = upload_text(tmp_path, CUSTOMERS, encoding=encoding)
    job = run(source, CUSTOMER_FIELDS)

    assert job.status == "succeeded", job.error
    assert dict(Customer.objects.values_list("external_id", "name")) == {"K1": "Müller GmbH", "K2": "Café Zoë"}
    assert Customer.objects.get(external_id="K2").city == "Genève"


GERMAN_ORDERS = "Bestellung;Datum;Betrag;Kunde\nA-1;24.12.2023;1.234,56;K1\nA-2;01.02.2024;12,50 €;K1\n"
GERMAN_FIELDS = [
    field("Bestellung", "canonical_orders", "external_id"),
    field("Datum", "canonical_orders", "order_date", [{"op": "parse_date", "format": "%d.%m.%Y"}]),
    field("Betrag", "canonical_orders", "amount", [{"op": "parse_number", "locale": "de"}]),
    field("Kunde", "canonical_orders", "customer_id"),
]


def test_german_numbers_and_dates(db, tmp_path):
    job = run(upload_text(tmp_path, GERMAN_ORDERS), GERMAN_FIELDS)

    assert job.status == "succeeded", job.error
    a1 = Order.objects.get(external_id="A-1")
    assert a1.order_date == dt.date(2023, 12, 24)
    assert a1.amount == Decimal("1234.56")
    assert Order.objects.get(external_id="A-2").amount == Decimal("12.50")
    assert not a1.amount_from_lines


def test_a_missing_customer_becomes_a_placeholder_until_its_file_arrives(db, tmp_path):
    job = run(upload_text(tmp_path, GERMAN_ORDERS, name="orders.csv"), GERMAN_FIELDS)

    placeholder = Customer.objects.get(external_id="K1")
    assert placeholder.is_placeholder
    assert job.report["placeholders"] == {"canonical_customers": 1}
    assert Order.objects.get(external_id="A-1").customer == placeholder

    customers = run(upload_text(tmp_path, CUSTOMERS, name="customers.csv"), CUSTOMER_FIELDS)

    filled = Customer.objects.get(external_id="K1")
    assert (filled.pk, filled.is_placeholder, filled.name) == (placeholder.pk, False, "Müller GmbH")
    assert customers.report["tables"]["canonical_customers"] == {
        "inserted": 1,
        "updated": 1,
        "unchanged": 0,
        "rejected": 0,
    }


def test_reject_mode_reports_rows_whose_referent_is_missing(db, tmp_path):
    Customer.objects.create(external_id="K1", name="Müller GmbH")
    text = GERMAN_ORDERS + "A-3;03.02.2024;5,00;K9\n"
    job = run(upload_text(tmp_path, text), GERMAN_FIELDS, options={"on_missing_reference": "reject"})

    assert job.status == "succeeded"
    assert job.report["tables"]["canonical_orders"] == {"inserted": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert not Customer.objects.filter(external_id="K9").exists()
    rejected = RejectedRow.objects.get(job=job)
    assert (rejected.source_row, rejected.column, rejected.value) == (4, "Kunde", "K9")
    assert "no canonical_customers row" in rejected.reason


def test_references_resolve_by_email_or_name_when_not_an_id(db, tmp_path):
    Customer.objects.create(external_id="C-100", name="Alfreds Futterkiste", email="maria@alfreds.de")
    text = "order,date,amount,customer\nO1,2024-01-01,10,MARIA@alfreds.de\nO2,2024-01-02,20,Alfreds Futterkiste\n"
    fields = [
        field("order", "canonical_orders", "external_id"),
        field("date", "canonical_orders", "order_date"),
        field("amount", "canonical_orders", "amount"),
        field("customer", "canonical_orders", "customer_id"),
    ]
    run(upload_text(tmp_path, text), fields)

    assert set(Order.objects.values_list("customer__external_id", flat=True)) == {"C-100"}
    assert Customer.objects.count() == 1


EMPLOYEES = "id,first,last,boss,hired\n3,Janet,Leverling,2,1992-04-01\n5,Steven,Buchanan,2,1993-10-17\n"
EMPLOYEES += "6,Michael,Suyama,5,1993-10-17\n2,Andrew,Fuller,,1992-08-14\n"
EMPLOYEE_FIELDS = [
    field("id", "canonical_employees", "external_id"),
    field("first", "canonical_employees", "name", [{"op": "concat", "columns": ["last"], "separator": " "}]),
    field("boss", "canonical_employees", "manager_id"),
    field("hired", "canonical_employees", "hire_date"),
]


def test_self_references_work_within_one_file(db, tmp_path):
    source = upload_text(tmp_path, EMPLOYEES)
    job = run(source, EMPLOYEE_FIELDS)

    managers = dict(Employee.objects.values_list("external_id", "manager__external_id"))
    assert managers == {"3": "2", "5": "2", "6": "5", "2": None}
    assert not Employee.objects.filter(is_placeholder=True).exists()
    assert job.report["tables"]["canonical_employees"]["inserted"] == 4
    assert Employee.objects.get(external_id="6").name == "Michael Suyama"

    again = execution_run_now(source=source, user=None)
    assert again.report["tables"]["canonical_employees"] == {"inserted": 0, "updated": 0, "unchanged": 4, "rejected": 0}


def test_changing_a_manager_counts_as_one_update(db, tmp_path):
    run(upload_text(tmp_path, EMPLOYEES, name="a.csv"), EMPLOYEE_FIELDS)
    moved = EMPLOYEES.replace("6,Michael,Suyama,5", "6,Michael,Suyama,3")
    job = run(upload_text(tmp_path, moved, name="b.csv"), EMPLOYEE_FIELDS)

    assert job.report["tables"]["canonical_employees"] == {"inserted": 0, "updated": 1, "unchanged": 3, "rejected": 0}
    assert Employee.objects.get(external_id="6").manager.external_id == "3"


SUPERSTORE = (
    "Order ID,Order Date,Customer ID,Customer Name,Product ID,Product Name,Quantity,Unit Price,Discount\n"
    "CA-1,2024-01-05,CG-1,Claire Gute,P-1,Bookcase,2,100.00,0\n"
    "CA-1,2024-01-05,CG-1,Claire Gute,P-2,Chair,1,50.00,0.5\n"
    "CA-2,2024-02-07,DV-2,Darrin Van Huff,P-1,Bookcase,1,100.00,0\n"
)
SUPERSTORE_FIELDS = [
    field("Customer ID", "canonical_customers", "external_id"),
    field("Customer Name", "canonical_customers", "name"),
    field("Product ID", "canonical_products", "external_id"),
    field("Product Name", "canonical_products", "name"),
    field("Order ID", "canonical_orders", "external_id"),
    field("Order Date", "canonical_orders", "order_date"),
    field("Customer ID", "canonical_orders", "customer_id"),
    field("Order ID", "canonical_order_lines", "order_id"),
    field("Product ID", "canonical_order_lines", "product_id"),
    field("Quantity", "canonical_order_lines", "quantity"),
    field("Unit Price", "canonical_order_lines", "unit_price"),
    field("Discount", "canonical_order_lines", "discount"),
]


def test_one_denormalized_file_fills_four_tables_in_dependency_order(db, tmp_path, load_mode):
    source = upload_text(tmp_path, SUPERSTORE)
    job = run(source, SUPERSTORE_FIELDS)

    assert job.status == "succeeded", job.error
    expected_bulk = ["canonical_customers", "canonical_products", "canonical_orders", "canonical_order_lines"]
    assert job.report["bulk_load"] == (expected_bulk if load_mode == "bulk" else [])
    tables = job.report["tables"]
    customers = dict(tables["canonical_customers"])
    # The customer repeated on each line of its order: a repeated parent, reported and loaded once.
    collapsed = customers.pop("collapsed")
    assert (collapsed["rows"], collapsed["keys"], collapsed["conflicting_keys"]) == (2, 1, 0)
    assert customers == {"inserted": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    assert tables["canonical_products"]["inserted"] == 2
    assert tables["canonical_orders"]["inserted"] == 2
    assert tables["canonical_order_lines"]["inserted"] == 3
    assert not Customer.objects.filter(is_placeholder=True).exists()
    ca1 = Order.objects.get(external_id="CA-1")
    assert ca1.customer.name == "Claire Gute"
    assert ca1.amount == Decimal("225.00")  # 2 * 100 + 1 * 50 * (1 - 0.5), from its lines
    assert OrderLine.objects.get(order=ca1, product__external_id="P-2").amount == Decimal("25.00")
    assert job.report["touched"]["canonical_orders"]["months"] == ["2024-01-01", "2024-02-01"]
    assert sorted(job.report["touched"]["canonical_order_lines"]["product_ids"]) == sorted(
        Product.objects.values_list("pk", flat=True)
    )

    again = execution_run_now(source=source, user=None)
    assert {t: c["inserted"] + c["updated"] for t, c in again.report["tables"].items()} == dict.fromkeys(tables, 0)
    assert again.report["tables"]["canonical_order_lines"]["unchanged"] == 3
    assert again.report["touched"] == {}


def test_rerunning_the_same_file_reports_everything_unchanged_and_a_change_updates_one_row(db, tmp_path):
    source = upload_text(tmp_path, GERMAN_ORDERS)
    run(source, GERMAN_FIELDS)
    again = execution_run_now(source=source, user=None)
    assert again.report["tables"]["canonical_orders"] == {"inserted": 0, "updated": 0, "unchanged": 2, "rejected": 0}

    changed = GERMAN_ORDERS.replace("01.02.2024;12,50", "01.03.2024;12,50")
    job = run(upload_text(tmp_path, changed, name="v2.csv"), GERMAN_FIELDS)
    counts = dict(job.report["tables"]["canonical_orders"])
    assert counts.pop("overwritten_from_other_sources")["columns"] == {"order_date": 1}
    assert counts == {"inserted": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    # The month the order left and the month it moved to both need their KPIs recomputed.
    assert job.report["touched"]["canonical_orders"]["months"] == ["2024-02-01", "2024-03-01"]


def test_bad_rows_are_rejected_with_row_column_value_and_reason_while_good_rows_load(db, tmp_path):
    text = GERMAN_ORDERS + "A-3;31.02.2024;5,00;K1\nA-4;01.03.2024;;K1\nA-5;01.03.2024;99.999.999.999.999,00;K1\n"
    job = run(upload_text(tmp_path, text), GERMAN_FIELDS)

    assert job.report["tables"]["canonical_orders"]["inserted"] == 2
    assert job.report["tables"]["canonical_orders"]["rejected"] == 3
    problems = {(r.source_row, r.column, r.value): r.reason for r in RejectedRow.objects.filter(job=job)}
    assert problems[(4, "Datum", "31.02.2024")].startswith("cannot read the value as date")
    assert problems[(5, "Betrag", "")] == "required value missing"
    assert "at most 12 digits" in problems[(6, "Betrag", "99.999.999.999.999,00")]
    assert any("row 4: Datum" in e for e in job.report["errors"])


def test_all_or_nothing_loads_nothing_when_a_row_is_rejected(db, tmp_path):
    text = GERMAN_ORDERS + "A-3;31.02.2024;5,00;K1\n"
    job = run(upload_text(tmp_path, text), GERMAN_FIELDS, options={"all_or_nothing": True})

    assert job.status == "failed"
    assert "all-or-nothing" in job.error
    assert not Order.objects.exists()
    assert not Customer.objects.exists()  # the placeholder went with the rest
    assert RejectedRow.objects.filter(job=job).count() == 1  # still downloadable


def test_a_failure_mid_run_leaves_every_canonical_table_as_it_was(db, tmp_path):
    Customer.objects.create(external_id="CG-1", name="Old name")
    with connection.cursor() as cursor:
        # Injected failure: the third table of the run (orders) refuses any insert.
        cursor.execute(
            "CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;"
            "CREATE TRIGGER test_fail BEFORE INSERT ON canonical_orders FOR EACH ROW EXECUTE FUNCTION test_fail();"
        )
    job = run(upload_text(tmp_path, SUPERSTORE), SUPERSTORE_FIELDS)

    assert job.status == "failed"
    assert "injected failure" in job.error
    assert list(Customer.objects.values_list("external_id", "name")) == [("CG-1", "Old name")]
    assert not Product.objects.exists()
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert job.source.status == "failed" or job.source.__class__.objects.get(pk=job.source.pk).status == "failed"


EXPENSES = "date,category,amount\n2024-01-03,Travel,120.00\n2024-01-03,Travel,120.00\n2024-01-04,Meals,35.50\n"
EXPENSE_FIELDS = [
    field("date", "canonical_expenses", "expense_date"),
    field("category", "canonical_expenses", "category"),
    field("amount", "canonical_expenses", "amount"),
]


def test_file_without_identifiers_gets_deterministic_external_ids(db, tmp_path):
    source = upload_text(tmp_path, EXPENSES)
    job = run(source, EXPENSE_FIELDS)

    assert job.report["tables"]["canonical_expenses"]["inserted"] == 3  # two equal lines are two expenses
    ids = set(Expense.objects.values_list("external_id", flat=True))
    again = execution_run_now(source=source, user=None)
    assert again.report["tables"]["canonical_expenses"] == {"inserted": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    same_file_again = run(upload_text(tmp_path, EXPENSES, name="copy.csv"), EXPENSE_FIELDS)
    assert same_file_again.report["tables"]["canonical_expenses"]["unchanged"] == 3
    assert set(Expense.objects.values_list("external_id", flat=True)) == ids


def test_signal_is_sent_after_commit_with_what_changed(db, tmp_path, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, job, **kwargs):
        received.append(job)

    execution_committed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = run(upload_text(tmp_path, GERMAN_ORDERS), GERMAN_FIELDS)
    finally:
        execution_committed.disconnect(receiver)

    assert [j.pk for j in received] == [job.pk]
    touched = received[0].report["touched"]["canonical_orders"]
    assert touched["months"] == ["2023-12-01", "2024-02-01"]
    assert touched["customer_ids"] == [Customer.objects.get(external_id="K1").pk]


def test_failed_execution_sends_no_signal(db, tmp_path, django_capture_on_commit_callbacks):
    received = []
    execution_committed.connect(lambda sender, job, **kw: received.append(job), weak=False, dispatch_uid="t-fail")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run(upload_text(tmp_path, GERMAN_ORDERS + "A-3;x;1;K1\n"), GERMAN_FIELDS, options={"all_or_nothing": True})
    finally:
        execution_committed.disconnect(dispatch_uid="t-fail")
    assert received == []


def test_only_one_execution_of_a_source_runs_at_a_time(db, tmp_path):
    source = upload_text(tmp_path, GERMAN_ORDERS)
    mapping = save(source, GERMAN_FIELDS)
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    with psycopg.connect(**params) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", (ADVISORY_LOCK_CLASS, source.pk))
        job = execution_run_now(source=source, mapping=mapping, user=None)

    assert job.status == "failed"
    assert "another execution of this upload is running" in job.error
    assert not Order.objects.exists()


def test_preview_shows_transformed_values_and_problems(db, tmp_path):
    source = upload_text(tmp_path, GERMAN_ORDERS + "A-3;31.02.2024;5,00;K1\n")
    rows = transform_preview(source=source, fields=GERMAN_FIELDS, limit=3)

    assert [r["values"]["external_id"] for r in rows] == ["A-1", "A-2", "A-3"]
    assert rows[0]["values"]["amount"] == "1234.56"
    assert rows[0]["values"]["order_date"] == "2023-12-24"
    assert rows[2]["errors"] == ["Datum: cannot read the value as date (value '31.02.2024')"]
    assert not ExecutionJob.objects.exists() and not Order.objects.exists()
