"""A date order the user gives decides dates no value can: `--date-order`, `--locale`, the review page.

Every value below is at most 12 in both positions (03/01/2024 could be 3 January or 1 March); without a
hint `--auto` refuses, naming the column and the option that decides it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from canonical.models import Order

ROWS = "".join(f"O{i},0{1 + i % 9}/0{1 + i % 3}/2024,{10 + i}.00\n" for i in range(24))
HEADER = "Order ID,Order Date,Total\n"


@pytest.fixture
def orders(tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + ROWS)
    return path


@pytest.mark.django_db
def test_auto_without_a_hint_names_the_undecided_column_and_the_option_that_decides_it(orders, capsys):
    with pytest.raises(CommandError, match="'Order Date': day and month could be either way round") as exc:
        call_command("ingest", str(orders), "--auto", "--json")
    assert "--date-order dmy or mdy" in str(exc.value)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_date_order_dmy_reads_the_first_number_as_the_day(orders, capsys):
    call_command("ingest", str(orders), "--auto", "--json", "--date-order", "dmy")
    report = json.loads(capsys.readouterr().out)
    assert report["tables"]["canonical_orders"]["inserted"] == 24
    assert Order.objects.get(external_id="O1").order_date == date(2024, 2, 2)
    assert Order.objects.get(external_id="O3").order_date == date(2024, 1, 4)


@pytest.mark.django_db
def test_a_us_locale_reads_the_first_number_as_the_month(orders, capsys):
    call_command("ingest", str(orders), "--auto", "--json", "--locale", "en-US")
    assert Order.objects.get(external_id="O3").order_date == date(2024, 4, 1)


@pytest.mark.django_db
def test_propose_mapping_takes_the_date_order_too(orders, capsys):
    call_command("propose_mapping", str(orders), "--json", "--date-order", "mdy")
    doc = json.loads(capsys.readouterr().out)
    date_col = next(p for p in doc["proposals"] if p["source_col"] == "Order Date")
    assert date_col["transform"] == [{"op": "parse_date", "format": "%m/%d/%Y"}]


@pytest.mark.django_db
def test_a_locale_that_is_no_locale_is_refused(orders):
    with pytest.raises(CommandError, match="--locale 'day first please'"):
        call_command("propose_mapping", str(orders), "--json", "--locale", "day first please")


@pytest.mark.django_db
def test_the_review_page_offers_the_date_order_only_when_a_date_is_undecided(client, executive, upload_of, orders):
    client.force_login(executive)
    source = upload_of(orders, executive)
    body = client.get(f"/uploads/{source.pk}/review/").content.decode()
    assert 'data-testid="date-order"' in body and "<code>Order Date</code>" in body

    response = client.post(f"/uploads/{source.pk}/review/date-order/", {"date_order": "dmy"})
    assert response.status_code == 302 and response["Location"].endswith("?fresh=1")
    source.refresh_from_db()
    column = next(c for c in source.profile["columns"] if c["name"] == "Order Date")
    assert column["format"] == "%d/%m/%Y" and column["date_evidence"]["decided_by"] == "locale"
    body = client.get(response["Location"]).content.decode()
    assert 'data-testid="date-order"' not in body and 'data-testid="dates-undecided"' not in body


@pytest.mark.django_db
def test_a_file_whose_values_decide_gets_no_date_order_choice(client, executive, upload_of, tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "decided.csv"
    path.write_text(HEADER + "".join(f"O{i},{13 + i % 15}/01/2024,{i}.00\n" for i in range(20)))
    client.force_login(executive)
    body = client.get(f"/uploads/{upload_of(path, executive).pk}/review/").content.decode()
    assert 'data-testid="date-order"' not in body


@pytest.mark.django_db
def test_the_date_order_is_refused_to_anonymous_users_and_to_those_who_may_not_manage_data(
    client, executive, rep, outsider, upload_of, orders
):
    source = upload_of(orders, executive)
    url = f"/uploads/{source.pk}/review/date-order/"
    response = client.post(url, {"date_order": "dmy"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    for user in (rep, outsider):
        client.force_login(user)
        assert client.post(url, {"date_order": "dmy"}).status_code == 403
    source.refresh_from_db()
    assert "date_order" not in source.dialect


@pytest.mark.django_db
def test_a_choice_that_is_not_offered_changes_nothing(client, executive, upload_of, orders):
    source = upload_of(orders, executive)
    client.force_login(executive)
    response = client.post(f"/uploads/{source.pk}/review/date-order/", {"date_order": "ymd"}, follow=True)
    assert "Choose day first or month first." in response.content.decode()
    source.refresh_from_db()
    assert "date_order" not in source.dialect
