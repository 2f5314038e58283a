"""Issue 23 item 7: money with the data's currency and numbers and dates as the viewer's browser writes them."""

from __future__ import annotations

from datetime import date

import pytest
from babel import Locale
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from canonical.selectors import data_currency
from dashboards.viewer_format import ViewerFormat, viewer_locale

NBSP = "\xa0"
GERMAN_EUR = ViewerFormat(locale=Locale.parse("de_DE"), currency="EUR")


@pytest.mark.parametrize(
    "header, locale",
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de_DE"),
        ("de", "de_DE"),  # a language alone writes as its main country does
        ("fr-CH, fr;q=0.9", "fr_CH"),
        ("xx-YY, pt-BR;q=0.5", "pt_BR"),  # the first one CLDR knows
        ("", "en_US"),
        ("root, und, *, i-klingon", "en_US"),  # nothing a viewer writes in: the site's own
        ("a" * 600, "en_US"),
    ],
)
def test_the_viewers_locale_is_the_first_accept_language_cldr_knows(header, locale):
    assert str(viewer_locale(header)) == locale


def test_a_german_viewer_sees_euros_as_germans_write_them():
    assert GERMAN_EUR.number(745567.44) == f"745.567,44{NBSP}€"
    assert GERMAN_EUR.number(5111, "integer") == "5.111"
    assert GERMAN_EUR.number(0.5, "number") == "0,50"
    assert GERMAN_EUR.number(None) == "—"


def test_an_american_viewer_sees_the_same_euros_the_american_way():
    american = ViewerFormat(locale=Locale.parse("en_US"), currency="EUR")
    assert american.number(745567.44) == "€745,567.44"
    assert ViewerFormat(locale=Locale.parse("en_US")).number(745567.44) == "745,567.44"  # no currency known


def test_dates_and_months_are_written_the_viewers_way():
    assert GERMAN_EUR.date("1997-05-05") == "05.05.1997"
    assert GERMAN_EUR.date(date(1997, 5, 1), month=True) == "Mai 1997"
    assert ViewerFormat(locale=Locale.parse("en_US")).date("1997-05-05") == "May 5, 1997"


def test_the_charts_get_the_same_locale_as_d3_definitions():
    vega = GERMAN_EUR.vega_locale()
    assert vega["number"] == {
        "decimal": ",",
        "thousands": ".",
        "grouping": [3],
        "currency": ["", f"{NBSP}€"],
        "minus": "-",
    }
    assert vega["time"]["date"] == "%d.%m.%Y"
    assert vega["time"]["shortMonths"][4] == "Mai" and vega["time"]["days"][0] == "Sonntag"
    american = ViewerFormat(locale=Locale.parse("en_US"), currency="USD").vega_locale()
    assert american["number"]["currency"] == ["$", ""] and american["time"]["date"] == "%b %-d, %Y"


@pytest.fixture
def orders_in(nw_employees):
    from canonical.models import Customer, Order

    customer = Customer.objects.create(external_id="C1", name="Café Zoë")

    def _orders(*currencies):
        for n, currency in enumerate(currencies):
            Order.objects.create(external_id=f"O{n}", customer=customer, order_date=date(2024, 1, 1), currency=currency)
        cache.clear()

    return _orders


def test_the_datas_currency_is_the_one_its_orders_are_in(orders_in, settings):
    settings.DEFAULT_CURRENCY = ""
    orders_in("EUR", "eur", "")
    assert data_currency() == "EUR"


def test_mixed_or_missing_currencies_fall_back_to_the_setting(orders_in, settings):
    settings.DEFAULT_CURRENCY = "CHF"
    orders_in("EUR", "USD")
    assert data_currency() == "CHF"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE canonical_orders SET currency = ''")
    cache.clear()
    assert data_currency() == "CHF"


def _number_widget_text(client, dashboard, language: str) -> tuple[str, dict]:
    widget = dashboard.widgets.get(title="Revenue")
    response = client.get(
        reverse("dashboards:widget", args=[dashboard.slug, widget.pk]),
        HTTP_ACCEPT_LANGUAGE=language,
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    return text.split('data-testid="kpi-number">', 1)[1].split("<", 1)[0], response


def test_the_revenue_widget_is_written_for_each_viewer_and_cached_per_language(
    client, executive, sales_dashboard, settings
):
    settings.DEFAULT_CURRENCY = "EUR"  # the stand-in KPI table has no orders behind it
    cache.clear()
    client.force_login(executive)

    german, german_response = _number_widget_text(client, sales_dashboard, "de-DE,de;q=0.9")
    american, american_response = _number_widget_text(client, sales_dashboard, "en-US")

    assert german == f"3.426,30{NBSP}€"
    assert american == "€3,426.30"
    assert "Accept-Language" in german_response["Vary"]
    assert german_response["ETag"] != american_response["ETag"]


def test_a_table_widget_writes_money_and_counts_for_the_viewer(client, executive, sales_dashboard, settings):
    from dashboards.services.widgets import widget_create, widget_spec_build

    settings.DEFAULT_CURRENCY = "EUR"
    cache.clear()
    widget = widget_create(
        dashboard=sales_dashboard,
        title="Revenue table",
        chart_type="table",
        view_name="test_sales_kpi",
        vega_spec=widget_spec_build(chart_type="table", view_name="test_sales_kpi", x="month", y="revenue"),
    )
    client.force_login(executive)
    page = client.get(
        reverse("dashboards:widget", args=[sales_dashboard.slug, widget.pk]), HTTP_ACCEPT_LANGUAGE="de-DE"
    ).content.decode()
    assert f"<td>1.000,00{NBSP}€</td>" in page
    assert "<td>Jan. 2024</td>" in page or "<td>Jan 2024</td>" in page


NUMBERS = [0, -0.0, 0.005, 0.015, 2.675, -1234.5, 1234567.891, 1e15, 1e21, float("inf")]
DECIMALS = [__import__("decimal").Decimal(v) for v in ("123456789012.345", "-0.001", "999.995", "-5.555", "0.00")]


def test_numbers_are_written_as_babel_writes_them_in_every_locale():
    # The compiled writer (`_number_writer`: each locale's pattern and symbols looked up once) against Babel itself,
    # for every locale CLDR knows (any of them can come in an Accept-Language header), each kind of number, and
    # currencies with 2, 0 and 3 decimals.
    from babel.localedata import locale_identifiers

    from dashboards.viewer_format import _number_writer, babel_number

    differences = []
    for identifier in locale_identifiers():
        locale = Locale.parse(identifier)
        for kind, currency in (("integer", ""), ("number", ""), ("money", "EUR"), ("money", "JPY"), ("money", "KWD")):
            writer = _number_writer(locale, kind, currency)
            values = [round(v) for v in NUMBERS[:-1] + DECIMALS] if kind == "integer" else NUMBERS + DECIMALS
            for value in values:
                expected, written = babel_number(value, locale, kind, currency), writer.write(value)
                if written != expected:
                    differences.append((identifier, kind, currency, value, expected, written))
    assert differences == []


def test_a_viewer_format_writes_numbers_through_the_compiled_writer():
    assert GERMAN_EUR.number(1265793.04) == f"1.265.793,04{NBSP}€"
    assert GERMAN_EUR.number(1265793.04, "number") == "1.265.793,04"
    assert GERMAN_EUR.number(1265793.5, "integer") == "1.265.794"
    assert ViewerFormat(locale=Locale.parse("hi_IN")).number(12345678.9, "number") == "1,23,45,678.90"
    assert ViewerFormat(locale=Locale.parse("de_CH"), currency="CHF").number(-1234.5) == "CHF-1’234.50"
    assert GERMAN_EUR.number(None) == "—"


def test_each_page_carries_its_viewers_locale_for_the_charts(client, executive, sales_dashboard, settings):
    # dashboards.context_processors: the script is written once per process per locale and currency; each viewer
    # still gets their own.
    import json
    import re

    settings.DEFAULT_CURRENCY = "EUR"
    cache.clear()
    client.force_login(executive)

    def script(language: str) -> dict:
        page = client.get(sales_dashboard.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        (found,) = re.findall(r'<script id="ll-viewer" type="application/json">(.*?)</script>', page)
        return json.loads(found)

    for _ in range(2):
        assert script("de-DE") == ViewerFormat(locale=Locale.parse("de_DE"), currency=data_currency()).vega_locale()
        assert script("en-US") == ViewerFormat(locale=Locale.parse("en_US"), currency=data_currency()).vega_locale()
    assert script("de-DE")["number"]["decimal"] == "," and script("en-US")["number"]["decimal"] == "."
