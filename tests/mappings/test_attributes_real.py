"""A real export's columns without a canonical home can be charted: Superstore's Region and Profit.

The file is loaded as a user would (`ingest --auto`); the sums grouped by its attributes are compared with
sums computed straight from the workbook (python-calamine, no project code)."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.db import connection
from python_calamine import CalamineWorkbook

from canonical.selectors import attribute_keys
from mappings.services.ingest import ingest_file

SUPERSTORE = Path(__file__).resolve().parents[1] / "data" / "real" / "superstore_orders.xls"  # dev split


def _file_sums() -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(sales per Region, each line rounded to the cent as money is stored; profit per Sub-Category). A cell is
    read as a spreadsheet shows it: 15 significant digits (5.551199999999998 is 5.5512)."""
    rows = CalamineWorkbook.from_path(str(SUPERSTORE)).get_sheet_by_name("Orders").to_python()
    header, data = rows[0], [r for r in rows[1:] if any(c not in ("", None) for c in r)]
    at = {name: i for i, name in enumerate(header)}
    sales: dict[str, Decimal] = defaultdict(Decimal)
    profit: dict[str, Decimal] = defaultdict(Decimal)
    for row in data:
        cents = Decimal(f"{row[at['Sales']]:.15g}").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        sales[row[at["Region"]]] += cents
        # A number attribute keeps 6 decimals (the engine's numbers are DECIMAL(38, 6)).
        micro = Decimal(f"{row[at['Profit']]:.15g}").quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        profit[row[at["Sub-Category"]]] += micro
    return dict(sales), dict(profit)


@pytest.mark.django_db(transaction=True)
def test_region_and_profit_columns_of_a_real_export_can_be_charted(executive, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    source, job = ingest_file(path=SUPERSTORE, user=executive, auto=True)
    assert job is not None and job.status == "succeeded", (job and job.report.get("errors"), job and job.error)

    keys = dict(attribute_keys(table="canonical_order_lines"))
    assert keys["region"] == "text" and keys["profit"] == "number" and keys["sub_category"] == "text"
    with connection.cursor() as cursor:
        # Revenue by an attribute, with the one revenue rule (kpi_line_revenue), as a chart's dataset reads it.
        cursor.execute(
            "SELECT l.attributes ->> 'region', sum(kpi_line_revenue(l.quantity, l.unit_price, l.discount, "
            "l.amount, l.amount_computed)) FROM canonical_order_lines l WHERE l.source_id = %s GROUP BY 1",
            [source.pk],
        )
        revenue_by_region = dict(cursor.fetchall())
        cursor.execute(
            "SELECT l.attributes ->> 'sub_category', sum((l.attributes ->> 'profit')::numeric) "
            "FROM canonical_order_lines l WHERE l.source_id = %s GROUP BY 1",
            [source.pk],
        )
        profit_by_sub_category = dict(cursor.fetchall())

    sales, profit = _file_sums()
    assert set(revenue_by_region) == {"Central", "East", "South", "West"} == set(sales)
    assert {k: Decimal(v) for k, v in revenue_by_region.items()} == sales
    assert len(profit_by_sub_category) == 17 == len(profit)
    for name, total in profit.items():
        assert profit_by_sub_category[name] == total, name
