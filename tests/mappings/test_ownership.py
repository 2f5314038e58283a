"""Who owns a column (docs/SCHEMA.md): a file writes a table's rows only at that table's grain. A lines file may
create the orders of its lines and describe them, until a file of orders describes them; loading the same files in
any order gives the same tables."""

from __future__ import annotations

import itertools
import shutil
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from canonical.models import Order, OrderLine, Product
from mappings.services.execute import execution_run_now, mapping_overwrites_preview
from mappings.services.mapping import MappingInvalid
from tests.canonical_state import loaded_then_rolled_back
from tests.mappings.helpers import field, run, save, upload_text
from tests.mappings.olist import LINES, MAPPINGS, OLIST, ORDERS, PAYMENTS, REAL, read_rows

pytestmark = pytest.mark.django_db

ORDERS_CSV = "order,date,status\nA,2024-01-05,shipped\nB,2024-02-10,open\n"
LINES_CSV = "order,limit,product,qty,price\nA,2024-03-30,P1,2,10.00\nA,2024-03-30,P2,1,5.00\nC,2024-04-01,P1,1,7.50\n"
ORDER_FIELDS = [
    field("order", ORDERS, "external_id"),
    field("date", ORDERS, "order_date"),
    field("status", ORDERS, "status"),
]
# The lines file names an order-level date (a shipping limit) as its orders' date: the case of issue 19.
LINE_FIELDS = [
    field("order", ORDERS, "external_id"),
    field("limit", ORDERS, "order_date"),
    field("order", LINES, "order_id"),
    field("product", LINES, "product_id"),
    field("qty", LINES, "quantity"),
    field("price", LINES, "unit_price"),
]


def test_a_lines_file_never_overwrites_the_columns_of_orders_an_orders_file_described(db, tmp_path):
    run(upload_text(tmp_path, ORDERS_CSV, name="orders.csv"), ORDER_FIELDS)
    job = run(upload_text(tmp_path, LINES_CSV, name="lines.csv"), LINE_FIELDS)

    assert job.status == "succeeded", job.report
    a = Order.objects.get(external_id="A")
    assert (str(a.order_date), a.status, a.at_grain) == ("2024-01-05", "shipped", True)
    assert a.source.name == "orders.csv"
    c = Order.objects.get(external_id="C")  # an order only the lines file knows: it describes it
    assert (str(c.order_date), c.at_grain, c.is_placeholder) == ("2024-04-01", False, False)
    assert job.report["tables"][ORDERS]["owned_elsewhere"] == 1
    assert any("described by a file at their own grain" in w for w in job.report["warnings"])
    assert Order.objects.get(external_id="A").amount == Decimal("25.00")  # its lines' sum: it has no total


def test_an_orders_file_takes_over_the_orders_a_lines_file_described_and_empties_what_it_does_not_map(db, tmp_path):
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    run(lines, [*LINE_FIELDS, field(None, ORDERS, "currency", [{"op": "constant", "value": "EUR"}])])
    assert Order.objects.get(external_id="A").currency == "EUR"

    job = run(upload_text(tmp_path, ORDERS_CSV, name="orders.csv"), ORDER_FIELDS)

    assert job.status == "succeeded", job.report
    a = Order.objects.get(external_id="A")
    assert (str(a.order_date), a.status, a.currency, a.at_grain) == ("2024-01-05", "shipped", "", True)
    assert a.amount == Decimal("25.00")
    assert Order.objects.get(external_id="C").currency == "EUR"  # not described by the orders file: kept


def test_re_running_the_lines_file_after_the_orders_file_changes_nothing(db, tmp_path):
    run(upload_text(tmp_path, ORDERS_CSV, name="orders.csv"), ORDER_FIELDS)
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    run(lines, LINE_FIELDS)

    again = execution_run_now(source=lines, user=None)

    assert {t: (c["inserted"], c["updated"]) for t, c in again.report["tables"].items()} == {
        ORDERS: (0, 0),
        LINES: (0, 0),
    }


def test_the_review_page_check_does_not_count_orders_the_lines_file_will_leave_alone(db, tmp_path):
    run(upload_text(tmp_path, ORDERS_CSV, name="orders.csv"), ORDER_FIELDS)
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    lines_mapping = save(lines, LINE_FIELDS)
    again = upload_text(tmp_path, ORDERS_CSV.replace("shipped", "returned"), name="orders-fixed.csv")

    assert mapping_overwrites_preview(source=lines, mapping=lines_mapping) == []
    (orders,) = mapping_overwrites_preview(source=again, mapping=save(again, ORDER_FIELDS))
    assert (orders["name"], orders["rows"]) == ("orders.csv", 2)


def test_a_mapping_may_name_its_grain_when_its_rows_are_not_its_last_table(db, tmp_path):
    text = "order,date,invoice\nA,2024-01-05,I-1\n"
    fields = [*ORDER_FIELDS[:2], field("invoice", "canonical_invoices", "external_id")]
    fields += [field("order", "canonical_invoices", "order_id"), field("date", "canonical_invoices", "invoice_date")]
    fields += [field(None, "canonical_invoices", "amount", [{"op": "constant", "value": "10.00"}])]
    with pytest.raises(MappingInvalid, match="canonical_customers is not one of the tables"):
        save(upload_text(tmp_path, text, name="bad.csv"), fields, options={"grain": "canonical_customers"})

    run(upload_text(tmp_path, text, name="orders-invoiced.csv"), fields, options={"grain": ORDERS})
    run(upload_text(tmp_path, LINES_CSV, name="lines.csv"), LINE_FIELDS)

    a = Order.objects.get(external_id="A")
    assert (str(a.order_date), a.at_grain) == ("2024-01-05", True)


# --- Any order of loading: the dev Olist files of the real corpus (tests/data/real, MANIFEST.toml) -------------


def _payments_text() -> str:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in read_rows("olist_order_items.csv"):
        totals[item["order_id"]] += Decimal(item["price"]) + Decimal(item["freight_value"])
    rows = [f"{order},1,credit_card,{total}" for order, total in sorted(totals.items())]
    return "order_id,seq,type,value\n" + "\n".join(rows) + "\n"


def _revenue_per_year_from_the_files() -> dict[str, Decimal]:
    """Each item's price in the year of its order: the orders file's purchase date when it has the order, else
    the items file's own (its shipping limit, as its mapping says)."""
    purchased = {
        r["order_id"]: datetime.strptime(r["order_purchase_timestamp"], "%m/%d/%Y %H:%M").year
        for r in read_rows("olist_orders.csv")
    }
    limit: dict[str, int] = {}
    for item in read_rows("olist_order_items.csv"):
        limit[item["order_id"]] = int(item["shipping_limit_date"][:4])  # the last line of the order wins
    years: dict[str, Decimal] = defaultdict(Decimal)
    for item in read_rows("olist_order_items.csv"):
        years[str(purchased.get(item["order_id"], limit[item["order_id"]]))] += Decimal(item["price"])
    return dict(years)


@pytest.fixture(scope="module")
def olist_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("olist")
    for name in OLIST:
        shutil.copy(REAL / name, folder / name)
    (folder / PAYMENTS).write_text(_payments_text(), encoding="utf-8")
    return folder


@pytest.fixture
def olist(olist_dir, tmp_path):
    """The five uploads with their mappings saved (nothing loaded yet)."""
    sources = {}
    for name in [*OLIST, PAYMENTS]:
        source = upload_text(tmp_path, (olist_dir / name).read_text(encoding="utf-8"), name=name)
        save(source, MAPPINGS[name])
        sources[name] = source
    return sources


def _load(sources: dict, order: list[str]) -> None:
    for name in order:
        job = execution_run_now(source=sources[name], user=None)
        assert job.status == "succeeded", (name, job.report)
        assert job.report["rejected_rows"] == 0, (name, job.report["errors"][:3])


def _load_and_roll_back(sources: dict, order: list[str]) -> tuple[dict, dict]:
    loaded = loaded_then_rolled_back(lambda: _load(sources, order))
    return loaded["tables"], loaded["revenue"]


FILES = [*OLIST, PAYMENTS]
ALL_ORDERS = list(itertools.permutations(FILES))


@pytest.fixture
def olist_reference(olist):
    """The tables and revenue of the manifest's order of loading (orders, products, sellers, items), then payments."""
    tables, revenue = _load_and_roll_back(olist, [*OLIST[:1], *OLIST[2:], OLIST[1], PAYMENTS])
    return olist, tables, revenue


def test_the_olist_files_give_exact_revenue_per_year_and_the_orders_files_dates(olist_reference):
    _sources, tables, revenue = olist_reference

    assert revenue == _revenue_per_year_from_the_files()
    assert sum(revenue.values()) == Decimal("113783.19")  # truth/olist_order_items.csv.json: money_total
    purchased = {r["order_id"]: r["order_purchase_timestamp"] for r in read_rows("olist_orders.csv")}
    items_orders = {r["order_id"] for r in read_rows("olist_order_items.csv")}
    both = sorted(items_orders & set(purchased))
    assert len(both) == 31  # 35 of the 999 items
    for order in both:
        row = tables[ORDERS][order]
        assert row["order_date"] == datetime.strptime(purchased[order], "%m/%d/%Y %H:%M").date()
        assert (row["source_id"], row["at_grain"]) == ("olist_orders.csv", True)
    assert len(tables[LINES]) == 999 and len(tables[ORDERS]) == 4998 + len(items_orders - set(purchased))
    assert all(p["order_id"] in tables[ORDERS] for p in tables["canonical_payments"].values())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.sampled_from(ALL_ORDERS))
@example(order=(PAYMENTS, "olist_order_items.csv", "olist_sellers.csv", "olist_products.csv", "olist_orders.csv"))
def test_any_order_of_loading_the_olist_files_gives_the_same_tables_and_revenue(olist_reference, order):
    sources, reference, reference_revenue = olist_reference

    tables, revenue = _load_and_roll_back(sources, list(order))

    assert revenue == reference_revenue
    for name, rows in reference.items():
        assert tables[name] == rows, f"{name} differs when loaded in the order {order}"


def test_the_products_file_takes_over_placeholders_the_items_file_created(olist):
    _load(olist, ["olist_order_items.csv"])
    placeholders = Product.objects.filter(is_placeholder=True).count()
    assert placeholders == 832  # truth: the items name 832 products

    _load(olist, ["olist_products.csv"])

    described = {r["product_id"] for r in read_rows("olist_products.csv")}
    named = {r["product_id"] for r in read_rows("olist_order_items.csv")}
    assert Product.objects.filter(is_placeholder=True).count() == len(named - described)
    assert Product.objects.filter(at_grain=True).count() == len(described)
    assert OrderLine.objects.filter(product__at_grain=True).count() == 34
