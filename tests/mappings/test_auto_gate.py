"""The `--auto` gate reads the whole file: what its values back is loaded, what they leave open is asked.

A proposal under the threshold that a required column waits for is loaded when the whole file backs it
beyond the one kind of evidence that proposed it (proposer/gate.py `confirmed_by_file`); otherwise the
refusal names the column and the question for the person."""

from __future__ import annotations

import pytest

from canonical.models import Product
from mappings.proposer.gate import auto_accepted, auto_gate
from tests.mappings.helpers import propose_by_column

AUTO = 0.7  # settings.MAPPING_AUTO_CONFIDENCE

SECTIONS = ("DEPORTES", "FERRETERÍA", "JUGUETERÍA", "CONFECCIÓN")
ITEMS = ("DESTORNILLADOR", "TRAJE CABALLERO", "COCHE TELEDIRIGIDO", "RAQUETA TENIS", "MANCUERNAS", "BALÓN")


def _catalogue(rows: int, *, code=lambda i: f"AR{i:02d}", extra: str = "", more=lambda i: "") -> str:
    """A product list whose headers name only the price (a Spanish ERP's export): code, section, name, price."""
    lines = [f"CODIGOARTICULO,SECCION,NOMBREARTICULO,PRECIO{extra}"]
    for i in range(1, rows + 1):
        name = f"{ITEMS[i % len(ITEMS)]} {i}"
        lines.append(f"{code(i)},{SECTIONS[i % len(SECTIONS)]},{name},{10 + i * 3.17:.2f}{more(i)}")
    return "\n".join(lines) + "\n"


def _gate(path) -> tuple[list[dict], list[str]]:
    profile, doc, _ = propose_by_column(path)
    accepted = auto_accepted(proposals=doc["proposals"], profile=profile, threshold=AUTO)
    problems = auto_gate(proposals=doc["proposals"], accepted=accepted, profile=profile, threshold=AUTO)
    return accepted, [p.line() for p in problems]


def _key(accepted: list[dict]) -> dict | None:
    return next((f for f in accepted if f["canonical_col"] == "external_id"), None)


@pytest.mark.django_db
def test_the_only_column_unique_and_filled_on_every_row_keys_the_products_it_lists(tmp_path):
    path = tmp_path / "productos.csv"
    path.write_text(_catalogue(40))

    accepted, problems = _gate(path)

    key = _key(accepted)
    assert key is not None and key["source_col"] == "CODIGOARTICULO"
    assert key["confidence"] < AUTO  # proposed from its values alone; the whole file confirms it
    assert "confirmed by the whole file" in key["reason"] and "40 rows" in key["reason"]
    assert problems == []


@pytest.mark.django_db
def test_uniqueness_over_a_handful_of_rows_earns_no_key(tmp_path):
    path = tmp_path / "productos.csv"
    path.write_text(_catalogue(8))

    accepted, problems = _gate(path)

    assert _key(accepted) is None
    assert any("canonical_products" in line for line in problems), problems


@pytest.mark.django_db
def test_two_columns_that_each_key_the_rows_leave_the_choice_to_a_person(tmp_path):
    path = tmp_path / "productos.csv"
    path.write_text(_catalogue(40, extra=",EAN", more=lambda i: f",84{i:011d}"))

    accepted, problems = _gate(path)

    assert _key(accepted) is None
    assert problems


@pytest.mark.django_db
def test_a_code_missing_on_one_row_keys_nothing(tmp_path):
    path = tmp_path / "productos.csv"
    path.write_text(_catalogue(40, code=lambda i: "" if i == 7 else f"AR{i:02d}"))

    accepted, problems = _gate(path)

    assert _key(accepted) is None
    assert problems


@pytest.mark.django_db
def test_ingest_auto_loads_the_products_their_codes_key(tmp_path):
    from mappings.services.ingest import ingest_file

    path = tmp_path / "productos.csv"
    path.write_text(_catalogue(40))

    source, job = ingest_file(path=path, user=None, auto=True)

    assert job.report["tables"]["canonical_products"]["inserted"] == 40
    assert str(Product.objects.get(external_id="AR07").price) == "32.19"


def _pos_lines(rows: int = 60) -> str:
    """A point-of-sale export's order lines: the row index, item, quantity, time, price in cents, order."""
    items = (("Rise and Shine", 1245), ("Small Fry", 445), ("Gobbler", 1045), ("Latte", 350))
    lines = [",Name,Quantity,Date,Cost,Order ID"]
    for i in range(rows):
        name, cents = items[i % len(items)]
        order = f"ord{i // 3:04d}x"
        lines.append(f"{i},{name},{1 + i % 2}.0,2018-03-{1 + i // 3 % 28:02d}T15:37:47Z,{cents},{order}")
    return "\n".join(lines) + "\n"


@pytest.mark.django_db
def test_a_refusal_names_the_column_that_could_hold_what_is_missing_and_asks(tmp_path):
    path = tmp_path / "order_lines.csv"
    path.write_text(_pos_lines())

    _, problems = _gate(path)

    price = next(line for line in problems if "canonical_order_lines.unit_price" in line)
    assert "could it be 'Cost' (whole numbers: in cents?)?" in price
    # The index the program wrote numbers the rows: it is offered for nothing.
    assert "column0" not in price and "''" not in price


@pytest.mark.django_db
def test_a_column_offered_for_one_missing_fact_is_not_offered_again_for_the_next(tmp_path):
    path = tmp_path / "pedidos.csv"
    rows = ["numero pedido;cliente;status;produto;quantidade;quantidade entregue;data emissao;data previsao de entrega"]
    for i in range(40):
        order, item = 1 + i // 2, ("A123652 - TECLADO", "A457920 - MOUSE", "A200311 - MONITOR")[i % 3]
        rows.append(
            f"{order};C{order * 37 % 900:05d};entregue;{item};{2 + i % 9};{i % 9};"
            f"{1 + order % 28:02d}/08/2023;{1 + order % 28:02d}/09/2023"
        )
    path.write_text("\n".join(rows) + "\n")

    _, problems = _gate(path)

    quantity = next(line for line in problems if "canonical_order_lines.quantity" in line)
    price = next(line for line in problems if "canonical_order_lines.unit_price" in line)
    assert "could it be 'quantidade', 'quantidade entregue'?" in quantity
    assert "could it be" not in price


def test_a_file_nothing_fits_asks_which_table_its_rows_feed_naming_the_closest():
    events = "'ProductKey' repeats on one 'ReturnDate': the rows are events, not stock counts"
    proposals = [
        {"source_col": col, "canonical_table": None, "canonical_col": None, "confidence": 0.5, "reason": reason}
        for col, reason in (
            ("ReturnDate", f"{events}; not canonical_inventory.snapshot_date (values are dates)"),
            ("ProductKey", f"{events}; not canonical_inventory.product_id (values are identifiers)"),
            ("ReturnQuantity", f"{events}; not canonical_inventory.quantity_on_hand (values are numbers)"),
            ("TerritoryKey", "no canonical column matches this header or its values"),
        )
    ]

    problems = auto_gate(proposals=proposals, accepted=[], profile={"columns": []}, threshold=AUTO)

    assert [p.line() for p in problems] == [
        "the file: no column is mapped with confidence ≥ 0.7: 3 columns came closest to canonical_inventory "
        "without fitting it; which table these rows feed, if any, needs a person"
    ]


def test_a_time_of_day_unique_on_every_row_keys_nothing():
    from mappings.proposer.gate import _row_key

    times = [f"{h:02d}:{(h * 7) % 60:02d}:{(h * 13) % 60:02d}" for h in range(24)]
    columns = {
        "Time": {"name": "Time", "type": "identifier", "top": [{"value": t, "count": 1} for t in times[:5]]},
        "Transaction ID": {"name": "Transaction ID", "type": "identifier", "top": [{"value": "C-0008", "count": 3}]},
    }
    grain = {
        "rows": 24,
        "row_key": ["Time"],
        "keys": {
            "Time": {"unique": True, "nonnull": 24},
            "Transaction ID": {"unique": False, "nonnull": 24},
        },
    }

    assert _row_key("Time", columns, grain) == ""
    columns["Time"]["top"] = [{"value": f"T-{i:04d}", "count": 1} for i in range(5)]  # the same rows, codes
    assert "each row's key" in _row_key("Time", columns, grain)


@pytest.mark.django_db
def test_the_review_page_preselects_the_key_the_whole_file_confirms(client, executive, upload_of, tmp_path):
    path = tmp_path / "productos.csv"
    path.write_text(_catalogue(40))
    source = upload_of(path, executive)
    client.force_login(executive)

    body = client.get(f"/uploads/{source.pk}/review/").content.decode()

    rows_html = {chunk.split('"', 1)[0]: chunk for chunk in body.split('data-source-col="')[1:]}
    assert 'value="canonical_products.external_id" selected' in rows_html["CODIGOARTICULO"]
    assert "confirmed by the whole file" in rows_html["CODIGOARTICULO"]


@pytest.mark.django_db
def test_a_file_whose_only_loaded_columns_would_be_attributes_is_asked_not_keyed(tmp_path):
    # A shop's receipts with headers in a language the vocabulary lacks: a unique code and columns kept as
    # attributes of whichever table the guess named (employees). Attributes say nothing of what the rows are: no
    # table's key is confirmed and the question is which table the rows feed, not an employee's missing name
    # (vn_retail_invoices.csv, its key confirmed that way, loaded 74 receipts as employees).
    from mappings.services.ingest import AutoRefused, ingest_file

    lines = ["ma_hoa_don,ma_khach_hang,tong_tien_hang,trang_thai"]
    lines += [f"HD{i:06d},KH{1000 + i % 13},{1_403_700 + i * 9_000},Hoàn thành" for i in range(1, 41)]
    path = tmp_path / "hoa_don.csv"
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(AutoRefused, match="no column is mapped with confidence"):
        ingest_file(path=path, user=None, auto=True)
