"""Every CSV download neutralises spreadsheet formulas (CSV injection), through one helper.

The downloads are found, not listed by hand: every URL whose route ends in `.csv`, and every module of the
apps that answers `text/csv`. A new export that is not covered here fails the first two tests.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from canonical.csv_export import csv_safe_cell
from dashboards.kpi.registry import KpiView
from dashboards.services.dashboards import dashboard_create
from dashboards.services.widgets import widget_create
from tests.dashboards.kpi_helpers import stand_in_kpi_create
from tests.mappings.helpers import field, run, upload_text

# Each starts a formula in Excel, LibreOffice or Google Sheets when it opens the file.
HOSTILE = ["=1+1", "+1+1", "-1+cmd|' /C calc'!A0", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]
IN_A_FILE = HOSTILE
COVERED_EXPORTS = {"dashboards:widget_csv", "mappings:job-rejected-csv"}
APPS = ("accounts", "canonical", "dashboards", "mappings", "config")


def csv_routes(resolver=None, prefix="") -> set[str]:
    found = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            found |= csv_routes(entry, namespace)
        elif isinstance(entry, URLPattern) and str(entry.pattern).endswith(".csv"):
            found.add(f"{prefix}{entry.name}")
    return found


def assert_inert(cell: str, original: str) -> None:
    assert cell == "'" + original, (cell, original)


def test_every_csv_route_is_one_these_tests_cover():
    assert csv_routes() == COVERED_EXPORTS


def test_every_module_that_answers_text_csv_writes_its_cells_through_the_one_helper():
    base = Path(settings.BASE_DIR)
    writers = [p for app in APPS for p in (base / app).rglob("*.py") if "text/csv" in p.read_text()]
    assert writers, "no CSV export found: the scan is broken"
    for path in writers:
        assert "csv_safe_cell" in path.read_text(), f"{path.relative_to(base)} writes CSV without csv_safe_cell"


@pytest.mark.parametrize("text", HOSTILE, ids=repr)
def test_the_helper_quotes_text_that_a_spreadsheet_would_run(text):
    assert csv_safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -5.5, Decimal("-1234.50"), 0, 42])
def test_the_helper_writes_numbers_as_numbers_negative_ones_included(value):
    assert csv_safe_cell(value) == value


def test_the_helper_leaves_plain_text_alone_and_writes_none_as_an_empty_cell():
    assert [csv_safe_cell(v) for v in ("Beverages", " =1", "a=b", None, True)] == [
        "Beverages",
        " =1",
        "a=b",
        "",
        "True",
    ]


@pytest.fixture
def hostile_kpi(monkeypatch, db):
    view = KpiView(
        name="test_export_kpi",
        description="Text and money with hostile cells (test stand-in).",
        columns={"label": "text", "amount": "money"},
        depends_on=("canonical_products",),
    )
    rows = [(text, Decimal(i)) for i, text in enumerate(HOSTILE)] + [("Refunds", Decimal("-5.25"))]
    return stand_in_kpi_create(monkeypatch, view, rows)


def test_the_widget_data_csv_quotes_hostile_text_and_keeps_negative_amounts_numbers(client, executive, hostile_kpi):
    dashboard = dashboard_create(title="Exports", owner=executive)
    widget = widget_create(
        dashboard=dashboard,
        title="Hostile",
        chart_type="table",
        view_name=hostile_kpi.name,
        vega_spec={"columns": ["label", "amount"]},
    )
    client.force_login(executive)
    response = client.get(f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    assert rows[0] == ["label", "amount"]
    by_amount = {Decimal(row[1]): row[0] for row in rows[1:]}
    for i, text in enumerate(HOSTILE):
        assert_inert(by_amount[i], text)
    assert by_amount[Decimal("-5.25")] == "Refunds"  # a negative amount stays a number, unquoted


def test_the_rejected_rows_csv_quotes_hostile_values_and_column_names(client, executive, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "=signup"])
    for i, text in enumerate(IN_A_FILE):
        writer.writerow([f"C{i}", text])
    job = run(
        upload_text(tmp_path, out.getvalue(), user=executive),
        [
            field("id", "canonical_customers", "external_id"),
            field("=signup", "canonical_customers", "created_at", [{"op": "parse_date", "format": "%Y-%m-%d"}]),
        ],
        user=executive,
    )
    stored = sorted(job.rejected_rows.values_list("value", flat=True))
    assert stored == sorted(IN_A_FILE)
    client.force_login(executive)
    response = client.get(f"/uploads/jobs/{job.pk}/rejected.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert rows[0] == ["table", "row", "column", "value", "reason"]
    assert len(rows) == 1 + len(IN_A_FILE)
    for _table, _row, column, value, _reason in rows[1:]:
        assert_inert(column, "=signup")
        assert value.startswith("'"), value
    exported = sorted(row[3] for row in rows[1:])
    assert exported == sorted("'" + text for text in stored)
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_the_helper_writes_a_rows_attributes_as_json_text_and_quotes_a_formula_inside():
    assert csv_safe_cell({"region": "West", "profit": 12.5}) == '{"profit": 12.5, "region": "West"}'
    assert csv_safe_cell({"region": "Nörd"}) == '{"region": "Nörd"}'
    assert csv_safe_cell(["=1+1"]) == '["=1+1"]'  # starts with [: a spreadsheet shows it as text
