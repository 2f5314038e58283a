"""The proposer reads a file as an analyst would: grain, keys, dates and values before header words.

Small files shaped like real exports (a Superstore-style line-level sales file, a marketplace's order
items, an order list with its fulfilment dates); the reasons asserted are those a person would give.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from canonical.models import Order, OrderLine
from mappings.intake.dialect import sniff_file
from mappings.profiling.profile import profile_file
from mappings.proposer.propose import propose_from_profile

CUSTOMERS = [("DP-13000", "Darren Powers", "Consumer"), ("PO-19195", "Phillina Ober", "Home Office")]
PRODUCTS = [("OFF-PA-1", "Message Book", "Office Supplies"), ("TEC-PH-2", "Desk Phone", "Technology")]


def _propose(path):
    dialect = sniff_file(path).as_json()
    profile = profile_file(path=path, dialect=dialect)
    doc = propose_from_profile(file=path.name, profile=profile, dialect=dialect)
    by_target = {f"{p['canonical_table']}.{p['canonical_col']}": p for p in doc["proposals"] if p["canonical_table"]}
    return profile, doc, by_target


def _sales_lines(days: list[int]) -> str:
    """A line-level sales export: order columns repeat on each of an order's two lines."""
    header = "Row ID,Order ID,Order Date,Ship Date,Customer ID,Customer Name,Segment,State,Product ID,Product Name,"
    header += "Category,Sales,Quantity,Discount\n"
    rows, n = [], 0
    for i, day in enumerate(days):
        cust = CUSTOMERS[i % 2]
        for j, prod in enumerate(PRODUCTS):
            n += 1
            order_date = f"{day:02d}/{1 + i % 12:02d}/19"
            ship_date = f"{min(day + 3, 28):02d}/{1 + i % 12:02d}/19"
            state = ("TX", "CA", "NY")[i % 3]
            sales = f"{(i + 1) * (j + 2) * 3.5:.2f}"
            rows.append(
                f"{n},US-2019-{1000 + i},{order_date},{ship_date},{cust[0]},{cust[1]},{cust[2]},{state},"
                f"{prod[0]},{prod[1]},{prod[2]},{sales},{j + 1},0.2\n"
            )
    return header + "".join(rows)


def test_a_line_level_export_feeds_lines_and_creates_their_orders_customers_and_products(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(_sales_lines([3 + i for i in range(20)]))
    _, doc, t = _propose(path)
    assert t["canonical_order_lines.order_id"]["source_col"] == "Order ID"
    assert "repeats" in t["canonical_order_lines.order_id"]["reason"]
    assert t["canonical_orders.external_id"]["source_col"] == "Order ID"
    assert t["canonical_orders.order_date"]["source_col"] == "Order Date"
    assert "constant within each 'Order ID'" in t["canonical_orders.order_date"]["reason"]
    assert t["canonical_customers.name"]["source_col"] == "Customer Name"
    assert "constant within each 'Customer ID'" in t["canonical_customers.name"]["reason"]
    assert t["canonical_products.name"]["source_col"] == "Product Name"
    assert t["canonical_order_lines.quantity"]["source_col"] == "Quantity"
    assert "varies within 'Order ID'" in t["canonical_order_lines.quantity"]["reason"]
    # A line-level file is not an orders file: its order key is never the key of its rows.
    assert (
        "canonical_order_lines.external_id" not in t
        or t["canonical_order_lines.external_id"]["source_col"] != ("Order ID")
        or t["canonical_order_lines.external_id"]["transform"]
    )


def test_values_above_12_in_the_first_position_make_two_digit_dates_day_first(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(_sales_lines([3, 14, 25, 7, 19]))
    profile, _, t = _propose(path)
    column = next(c for c in profile["columns"] if c["name"] == "Order Date")
    assert column["format"] == "%d/%m/%y"
    assert "values above 12 in the first position make it day-first" in column["date_evidence"]["reason"]
    assert t["canonical_orders.order_date"]["transform"] == [{"op": "parse_date", "format": "%d/%m/%y"}]
    assert column["min"].startswith("2019-")  # never the years 1 to 31


def test_dates_that_read_both_ways_take_the_reading_the_files_other_dates_prove(tmp_path):
    # Order dates never pass the 12th; ship dates do, and they are written the same way.
    rows = "".join(
        f"O{i},0{1 + i % 9}/0{1 + i % 6}/2024,{13 + i % 10}/0{1 + i % 6}/2024,{10 + i}.00\n" for i in range(30)
    )
    path = tmp_path / "orders.csv"
    path.write_text("Order ID,Order Date,Ship Date,Total\n" + rows)
    profile = profile_file(path=path, dialect=sniff_file(path).as_json())
    column = next(c for c in profile["columns"] if c["name"] == "Order Date")
    assert column["format"] == "%d/%m/%Y" and column["ambiguous"] is False
    assert column["date_evidence"]["decided_by"] == "file"
    assert "'Ship Date' in the same file is day-first" in column["date_evidence"]["reason"]


def test_dates_no_value_can_decide_are_marked_undecided(tmp_path):
    rows = "".join(f"O{i},0{1 + i % 9}/0{1 + i % 6}/2024,{10 + i}.00\n" for i in range(30))
    path = tmp_path / "orders.csv"
    path.write_text("Order ID,Order Date,Total\n" + rows)
    profile = profile_file(path=path, dialect=sniff_file(path).as_json())
    column = next(c for c in profile["columns"] if c["name"] == "Order Date")
    assert column["ambiguous"] is True and column["date_evidence"]["undecided"] is True
    assert "no value above 12 in either position" in column["date_evidence"]["reason"]


def test_order_items_keyed_by_order_id_are_lines_keyed_by_order_and_item_number(tmp_path):
    rows = []
    for i in range(25):
        for item in range(1, 2 + i % 3):
            rows.append(f"ord{i:04d},{item},prod{(i + item) % 7},2017-09-{1 + i % 28:02d} 09:45:35,{10 + i}.90\n")
    path = tmp_path / "order_items.csv"
    path.write_text("order_id,order_item_id,product_id,shipping_limit_date,price\n" + "".join(rows))
    _, doc, t = _propose(path)
    assert t["canonical_order_lines.order_id"]["source_col"] == "order_id"
    key = t["canonical_order_lines.external_id"]
    assert key["source_col"] == "order_id"
    assert key["transform"] == [{"op": "concat", "columns": ["order_item_id"], "separator": "-"}]
    assert "unique together on every row" in key["reason"]
    # The item number alone (values 1-3) is never a key.
    assert all(p["canonical_col"] != "external_id" for p in doc["proposals"] if p["source_col"] == "order_item_id")


def test_the_earliest_of_an_orders_dates_is_its_order_date(tmp_path):
    rows = "".join(
        f"o{i},c{i % 9},delivered,2018-03-{1 + i % 20:02d} 10:00,2018-03-{3 + i % 20:02d} 09:00,"
        f"2018-04-{1 + i % 20:02d} 00:00\n"
        for i in range(30)
    )
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,order_status,order_purchase_timestamp,order_delivered_carrier_date,"
        "order_estimated_delivery_date\n" + rows
    )
    _, _, t = _propose(path)
    date = t["canonical_orders.order_date"]
    assert date["source_col"] == "order_purchase_timestamp"
    assert "comes before" in date["reason"]


def test_two_letter_state_codes_are_not_names_and_a_handful_of_values_is_no_key(tmp_path):
    rows = "".join(f"CU-{i:03d},{('TX', 'CA', 'NY', 'WA')[i % 4]},Week {1 + i % 5},{10 + i}.50\n" for i in range(40))
    path = tmp_path / "customers.csv"
    path.write_text("Customer ID,State,Week,Balance\n" + rows)
    _, doc, _ = _propose(path)
    by_col = {p["source_col"]: p for p in doc["proposals"]}
    assert by_col["State"]["canonical_col"] != "name"
    assert by_col["Week"]["canonical_col"] != "external_id"


@pytest.mark.django_db
def test_auto_stops_before_loading_when_day_and_month_cannot_be_told_apart(tmp_path, capsys):
    rows = "".join(f"O{i},0{1 + i % 9}/0{1 + i % 6}/2024,{10 + i}.00\n" for i in range(30))
    path = tmp_path / "orders.csv"
    path.write_text("Order ID,Order Date,Total\n" + rows)
    with pytest.raises(CommandError, match="--auto stopped before loading orders.csv: 'Order Date'"):
        call_command("ingest", str(path), "--auto", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["tables"] == {}
    problem = next(p for p in report["needs_review"] if p["source_col"] == "Order Date")
    assert "day and month could be either way round" in problem["problem"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_auto_loads_a_line_level_file_and_its_json_stays_small(tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text(_sales_lines([3 + i for i in range(20)]).replace(",Sales,", ",Unit Price,"))
    call_command("ingest", str(path), "--auto", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["tables"]["canonical_order_lines"]["inserted"] == 40
    assert report["tables"]["canonical_orders"]["inserted"] == 20
    assert "touched" not in report  # ids feed the refresh, not the user's terminal
    assert OrderLine.objects.count() == 40
    assert Order.objects.filter(order_date__year=2019).count() == 20


@pytest.mark.django_db
def test_a_learned_date_format_that_cannot_read_the_values_is_dropped(executive, upload_of, tmp_path):
    from mappings.models import FieldMapping, Mapping
    from mappings.services.propose import mapping_propose

    first = tmp_path / "orders_a.csv"
    first.write_text("Order ID,Order Date,Total\n" + "".join(f"A{i},{13 + i % 9}/01/19,{i}.00\n" for i in range(20)))
    source = upload_of(first, executive)
    mapping = Mapping.objects.create(source=source, version=1, created_by=executive)
    FieldMapping.objects.create(
        mapping=mapping, source=source, version=1, source_col="Order Date", canonical_table="canonical_orders",
        canonical_col="order_date", transform=[{"op": "parse_date", "format": "%d/%m/%y"}],
    )  # fmt: skip
    second = tmp_path / "orders_b.csv"
    second.write_text("Order ID,Order Date,Total\n" + "".join(f"B{i},05.0{1 + i % 9}.1998,{i}.00\n" for i in range(20)))
    proposals = mapping_propose(source=upload_of(second, executive), user=executive)["proposals"]
    date = next(p for p in proposals if p["source_col"] == "Order Date")
    assert date["transform"] == [{"op": "parse_date", "format": "%d.%m.%Y"}]
    assert "does not read these values" in date["reason"]


@pytest.mark.django_db
def test_a_mapping_learned_on_an_unrelated_layout_is_not_reused(executive, upload_of, tmp_path):
    from mappings.models import FieldMapping, Mapping
    from mappings.services.propose import mapping_propose

    first = tmp_path / "people.csv"
    first.write_text("Code,Name,Team,Office,Phone\nE1,Ann,North,Lyon,+33 1 23 45 67 89\n")
    source = upload_of(first, executive)
    mapping = Mapping.objects.create(source=source, version=1, created_by=executive)
    FieldMapping.objects.create(
        mapping=mapping, source=source, version=1, source_col="Code",
        canonical_table="canonical_employees", canonical_col="external_id",
    )  # fmt: skip
    second = tmp_path / "catalog.csv"
    second.write_text("Code,Name,Price,Category\n" + "".join(f"P{i},Item {i},{i}.50,Tools\n" for i in range(20)))
    proposals = mapping_propose(source=upload_of(second, executive), user=executive)["proposals"]
    code = next(p for p in proposals if p["source_col"] == "Code")
    assert "mapped before" not in code["reason"]


@pytest.mark.django_db
def test_the_review_page_preselects_only_confident_proposals_and_flags_undecided_dates(
    client, executive, upload_of, tmp_path
):
    rows = "".join(f"O{i},0{1 + i % 9}/0{1 + i % 6}/2024,{10 + i}.00,C{i % 4}\n" for i in range(30))
    path = tmp_path / "orders.csv"
    path.write_text("Order ID,Order Date,Total,Client Account Ref\n" + rows)
    source = upload_of(path, executive)
    client.force_login(executive)
    body = client.get(f"/uploads/{source.pk}/review/").content.decode()
    assert 'data-testid="dates-undecided"' in body
    rows_html = {chunk.split('"', 1)[0]: chunk for chunk in body.split('data-source-col="')[1:]}
    assert 'value="canonical_orders.external_id" selected' in rows_html["Order ID"]
    weak = rows_html["Client Account Ref"]  # "contains 'client'": a guess, not a reading
    assert "selected" not in weak.split("</select>")[0].replace('<option value="">', "")
    assert 'data-testid="suggested"' in weak


def test_a_learned_mapping_that_contradicts_the_files_reading_is_not_reused(tmp_path):
    """Saved before: 'Price' → orders.amount. This file's own reading: 'Qty' and 'Price' are each line's quantity
    and unit price. Reusing the learned field would leave the lines without a price: the proposal is made afresh,
    and the note says which learned field was dropped and why."""
    from mappings.proposer.propose import learned_conflicts

    rows = "".join(f"SO-{i},{1 + i % 28:02d}.0{1 + i % 9}.2024,C{i % 5},{1 + i % 4},{10 + i}.50\n" for i in range(40))
    path = tmp_path / "sales.csv"
    path.write_text("Order,Date,Customer,Qty,Price\n" + rows)
    dialect = sniff_file(path).as_json()
    profile = profile_file(path=path, dialect=dialect)
    learned = {
        "Order": {"canonical_table": "canonical_orders", "canonical_col": "external_id", "transform": None},
        "Price": {"canonical_table": "canonical_orders", "canonical_col": "amount", "transform": None},
    }
    notes: list[str] = []
    doc = propose_from_profile(file=path.name, profile=profile, dialect=dialect, learned=learned, notes=notes)
    price = next(p for p in doc["proposals"] if p["source_col"] == "Price")
    assert (price["canonical_table"], price["canonical_col"]) == ("canonical_order_lines", "unit_price")
    assert not any("mapped before" in p["reason"] for p in doc["proposals"])
    assert notes and "'Price' → canonical_orders.amount was learned" in notes[0], notes
    assert "canonical_order_lines.unit_price" in notes[0]

    # A learned mapping that agrees with the file's reading is reused as it is, with nothing to say.
    agreeing = {"Order": learned["Order"]}
    notes = []
    doc = propose_from_profile(file=path.name, profile=profile, dialect=dialect, learned=agreeing, notes=notes)
    order = next(p for p in doc["proposals"] if p["source_col"] == "Order" and p["canonical_col"] == "external_id")
    assert order["reason"].startswith("mapped before by users") and notes == []
    assert learned_conflicts(doc["proposals"], doc["proposals"], profile) == []


def test_a_learned_parent_fact_that_varies_within_the_parents_key_is_not_reused(tmp_path):
    """Saved before: 'Sales' → orders.amount. Here 'Sales' differs between the lines of one order: it cannot be
    the order's amount, whatever was learned."""
    lines = []
    for i in range(30):
        for j in range(2):
            lines.append(f"O{i},2024-01-{1 + i % 28:02d},P{j},{1 + j},{5 + i + j}.25\n")
    path = tmp_path / "lines.csv"
    path.write_text("Order ID,Order Date,Product ID,Quantity,Sales\n" + "".join(lines))
    dialect = sniff_file(path).as_json()
    profile = profile_file(path=path, dialect=dialect)
    learned = {"Sales": {"canonical_table": "canonical_orders", "canonical_col": "amount", "transform": None}}
    notes: list[str] = []
    doc = propose_from_profile(file=path.name, profile=profile, dialect=dialect, learned=learned, notes=notes)
    sales = next(p for p in doc["proposals"] if p["source_col"] == "Sales")
    assert (sales["canonical_table"], sales["canonical_col"]) == ("canonical_order_lines", "amount")
    assert notes and "varies within 'Order ID'" in notes[0]


@pytest.mark.django_db
def test_the_review_page_lists_what_auto_would_stop_on_each_linked_to_its_row(client, executive, upload_of, tmp_path):
    rows = "".join(f"O{i},0{1 + i % 9}/0{1 + i % 6}/2024,{10 + i}.00\n" for i in range(30))
    path = tmp_path / "orders.csv"
    path.write_text("Order ID,Order Date,Total\n" + rows)
    source = upload_of(path, executive)
    client.force_login(executive)
    page = client.get(f"/uploads/{source.pk}/review/")
    questions = page.context["questions"]
    date = next(q for q in questions if q["where"] == "Order Date")
    assert "day and month could be either way round" in date["problem"]
    body = page.content.decode()
    panel = body.split('data-testid="questions"')[1].split("</section>")[0]
    assert f'href="#target-{date["row"]}"><code>Order Date</code></a>' in panel
    # The link leads to the select of that column's row.
    row = body.split(f'data-row="{date["row"]}"')[1].split("</tr>")[0]
    assert f'id="target-{date["row"]}"' in row and body.split(f'data-row="{date["row"]}"')[0].endswith(
        'data-source-col="Order Date" '
    )


@pytest.mark.django_db
def test_the_review_page_asks_nothing_of_a_file_auto_loads_nor_of_a_saved_version(
    client, executive, upload_of, tmp_path
):
    from mappings.services.mapping import mapping_save
    from tests.mappings.helpers import field

    path = tmp_path / "sales.csv"
    path.write_text(_sales_lines([3 + i for i in range(20)]).replace(",Sales,", ",Unit Price,"))
    source = upload_of(path, executive)
    client.force_login(executive)
    page = client.get(f"/uploads/{source.pk}/review/")
    assert page.context["fresh"] and page.context["questions"] == []
    assert b'data-testid="questions"' not in page.content

    # A saved version is the person's decision: its page asks nothing, even of a file --auto would stop on.
    rows = "".join(f"O{i},0{1 + i % 9}/0{1 + i % 6}/2024,1.00\n" for i in range(30))
    undecided = tmp_path / "orders.csv"
    undecided.write_text("Order ID,Order Date,Total\n" + rows)
    other = upload_of(undecided, executive)
    assert client.get(f"/uploads/{other.pk}/review/").context["questions"]
    fields = [
        field("Order ID", "canonical_orders", "external_id"),
        field("Order Date", "canonical_orders", "order_date"),
    ]
    mapping_save(source=other, fields=fields, user=executive)
    saved = client.get(f"/uploads/{other.pk}/review/")
    assert not saved.context["fresh"] and saved.context["questions"] == []
    assert b'data-testid="questions"' not in saved.content


def _sorted_orders(days_months: list[tuple[int, int]]) -> str:
    """Orders in the file's date order, each date written dd/mm/yyyy with both fields at most 12."""
    rows = "".join(f"O{i},{d:02d}/{m:02d}/2024,{10 + i}.00\n" for i, (d, m) in enumerate(days_months))
    return "Order ID,Order Date,Total\n" + rows


# Day-first, these 30 orders run from 1 January to 12 December in row order; month-first they jump back and forth.
SORTED_DAY_FIRST = [(d, m) for m in range(1, 13) for d in (1, 6, 11) if (m, d) != (12, 11)][:30]


def test_dates_in_row_order_one_way_only_are_decided_by_the_rows(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(_sorted_orders(SORTED_DAY_FIRST))
    profile = profile_file(path=path, dialect=sniff_file(path).as_json())
    column = next(c for c in profile["columns"] if c["name"] == "Order Date")
    assert column["format"] == "%d/%m/%Y" and column["ambiguous"] is False
    assert column["date_evidence"]["decided_by"] == "rows"
    assert "the rows are in date order" in column["date_evidence"]["reason"]


@pytest.mark.django_db
def test_auto_loads_orders_whose_row_order_decides_day_and_month(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(_sorted_orders(SORTED_DAY_FIRST))
    call_command("ingest", str(path), "--auto", "--json")
    assert Order.objects.count() == 30
    assert str(Order.objects.get(external_id="O3").order_date)[:10] == "2024-02-01"


def test_dates_sorted_both_ways_or_too_few_changes_stay_undecided(tmp_path):
    # Five dates, each on six rows: four changes of date, too few to be more than chance.
    few = [(d, m) for d, m in [(1, 2), (1, 3), (2, 3), (2, 4), (3, 4)] for _ in range(6)]
    # Seven dates that stay in order read either way (01/01, 01/02, 02/02, 02/03 ...): the rows decide nothing.
    both = [(d, m) for d, m in [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (4, 4)] for _ in range(4)]
    # The same day-first dates shuffled: neither reading keeps the rows in order.
    shuffled = SORTED_DAY_FIRST[::2] + SORTED_DAY_FIRST[1::2]
    for name, dates in (("few.csv", few), ("both.csv", both), ("shuffled.csv", shuffled)):
        path = tmp_path / name
        path.write_text(_sorted_orders(dates))
        profile = profile_file(path=path, dialect=sniff_file(path).as_json())
        column = next(c for c in profile["columns"] if c["name"] == "Order Date")
        assert column["date_evidence"]["undecided"] is True, name
