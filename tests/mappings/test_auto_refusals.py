"""Why `--auto` refused or lost rows on real sales exports (issue 18, branch refuse18), one reason per test.

Each test is a small file shaped like the real export the reason came from."""

from __future__ import annotations

from decimal import Decimal

import pytest

from canonical.models import Order
from mappings.profiling.profile import profile_file
from tests.mappings.helpers import field, run, upload_text

# A spreadsheet's accounting format saved as CSV: zero is written as a currency mark and a dash.
ACCOUNTING = (
    "Order,Date, Discounts ,  Sales \n"
    '1,2014-01-01, $-   ," $32,370.00 "\n'
    '2,2014-01-01," $1,210.00 "," $24,200.00 "\n'
    '3,2014-02-01, $-   ," $3,210.50 "\n'
    "4,2014-03-01, $-   , $980.00 \n"
)


@pytest.mark.django_db
def test_a_currency_mark_with_a_dash_is_a_zero_amount_not_a_rejected_row(tmp_path):
    source = upload_text(tmp_path, ACCOUNTING, name="financial_sample.csv")
    money = [{"op": "parse_number", "locale": "en"}]
    job = run(
        source,
        [
            field("Order", "canonical_orders", "external_id"),
            field("Date", "canonical_orders", "order_date", [{"op": "parse_date", "format": "%Y-%m-%d"}]),
            field("Discounts", "canonical_orders", "discount_amount", money),
            field("Sales", "canonical_orders", "amount", money),
        ],
    )

    assert job.report["tables"]["canonical_orders"]["rejected"] == 0
    assert sum(o.amount for o in Order.objects.all()) == Decimal("60760.50")
    assert Order.objects.get(external_id="1").discount_amount == 0


def test_the_profile_reads_the_accounting_zero_as_a_number(tmp_path):
    path = tmp_path / "financial_sample.csv"
    path.write_text(ACCOUNTING)

    columns = {c["name"].strip(): c for c in profile_file(path=path, dialect={"delimiter": ","})["columns"]}

    assert columns["Discounts"]["type"] == "decimal"
    assert columns["Discounts"]["min"] == 0


def _orders_procured_before(rows: int = 40) -> str:
    """A distributor's sales export: stock is procured (one date for a batch) before the order is placed, then
    shipped and delivered; the order date is named, the procurement date is only 'a date'."""
    header = "OrderNumber,Sales Channel,ProcuredDate,OrderDate,ShipDate,DeliveryDate,_CustomerID,Order Quantity"
    lines = [header + ",Unit Price"]
    for i in range(rows):
        month = i % 12 + 1
        procured = f"31/12/{17 if month < 7 else 18}"
        lines.append(
            f"SO - {101 + i:06d},{['Online', 'In-Store', 'Distributor'][i % 3]},{procured},{i % 27 + 1}/{month}/19,"
            f"{i % 27 + 2}/{month}/19,{i % 27 + 2}/{month % 12 + 1}/19,{i % 9 + 1},{i % 8 + 1},{100 + 13.5 * i:.2f}"
        )
    return "\n".join(lines) + "\n"


@pytest.mark.django_db
def test_a_date_named_order_date_is_the_orders_date_though_a_date_named_nothing_comes_before_it(tmp_path):
    from tests.mappings.helpers import propose_by_column

    path = tmp_path / "regional_sales.csv"
    path.write_text(_orders_procured_before())

    _, _, by_col = propose_by_column(path)

    targets = {c: {f"{p['canonical_table']}.{p['canonical_col']}" for p in ps} for c, ps in by_col.items()}
    assert "canonical_orders.order_date" in targets["OrderDate"]
    assert "canonical_orders.order_date" not in targets["ProcuredDate"]


SEGMENTS = ("Consumer", "Corporate", "Home Office")
COUNTRIES = ("United States", "Canada", "Mexico")


def _orders_with_buyer_facts(rows: int = 40, date=lambda i: f"{i % 28 + 1:02d}/{i % 12 + 1:02d}/2019") -> str:
    """A shop's orders export: the buyer is known by e-mail, with a segment and a country, but no name or id."""
    lines = ["Order ID,Order Date,Customer Email,Customer Segment,Customer Country,Order Total"]
    for i in range(rows):
        lines.append(
            f"CA-2019-{100000 + 37 * i},{date(i)},buyer{i % 15}@example.com,{SEGMENTS[i % 3]},"
            f"{COUNTRIES[i % 3]},{100 + 17.25 * i:.2f}"
        )
    return "\n".join(lines) + "\n"


@pytest.mark.django_db
def test_orders_load_when_only_the_customers_they_mention_lack_a_confident_name(tmp_path, settings):
    from mappings.services.ingest import ingest_file

    settings.UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "shop_orders.csv"
    path.write_text(_orders_with_buyer_facts())

    _, job = ingest_file(path=path, user=None, auto=True)

    assert job.report["tables"]["canonical_orders"]["inserted"] == 40
    assert sum(o.amount for o in Order.objects.all()) == Decimal("17455.00")
    (left,) = job.report["auto_left_out"]
    assert left["canonical_table"] == "canonical_customers" and left["missing"] == ["name"]
    assert set(left["kept"]) == {"Customer Segment", "Customer Country"}
    # Nothing the file says is lost: the buyer's segment stays on the order it was written on.
    order = Order.objects.get(external_id="CA-2019-100000")
    assert order.attributes["customer_segment"] == "Consumer"


@pytest.mark.django_db
def test_leaving_a_customer_out_does_not_excuse_the_orders_own_undecided_dates(tmp_path, settings):
    from mappings.services.ingest import AutoRefused, ingest_file

    settings.UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "shop_orders.csv"
    path.write_text(_orders_with_buyer_facts(date=lambda i: f"{i % 12 + 1:02d}/{i % 11 + 1:02d}/2019"))

    with pytest.raises(AutoRefused) as refused:
        ingest_file(path=path, user=None, auto=True)

    problems = [p.line() for p in refused.value.problems]
    assert any("day and month" in p for p in problems)
    assert any("canonical_customers.name" in p for p in problems)  # every question, the customer's too
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_the_review_page_asks_only_what_auto_would_stop_on_and_names_the_table_it_would_leave_out(
    client, executive, upload_of, tmp_path
):
    path = tmp_path / "shop_orders.csv"
    path.write_text(_orders_with_buyer_facts())
    source = upload_of(path, executive)
    client.force_login(executive)

    page = client.get(f"/uploads/{source.pk}/review/")

    # --auto loads these orders (the test above): the page must not say it would stop on the customers' name.
    assert page.context["fresh"] and page.context["questions"] == []
    (line,) = page.context["auto_left_out"]
    assert line.startswith("canonical_customers left out: name not filled by a confident proposal")
    body = page.content.decode()
    assert 'data-testid="questions"' not in body
    assert 'data-testid="auto-left-out"' in body and "canonical_customers left out" in body
