"""Small builders for mapping/execution tests: write a CSV, upload it, save a mapping, run it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mappings.engine.transforms import duckdb_install_macros
from mappings.intake.dialect import sniff_file
from mappings.intake.duck import duckdb_connect_locked
from mappings.models import DataSource, ExecutionJob, Mapping
from mappings.profiling.profile import profile_file
from mappings.proposer.propose import propose_from_profile
from mappings.services.execute import execution_run_now
from mappings.services.mapping import mapping_save
from mappings.services.upload import data_source_create


@contextmanager
def transforms_duck(directory: Path, csv_text: str) -> Iterator:
    """A DuckDB connection locked to a one-file CSV of `csv_text`, with the transforms' macros installed."""
    path = directory / "only.csv"
    path.write_text(csv_text)
    conn = duckdb_connect_locked(path)
    duckdb_install_macros(conn)
    try:
        yield conn
    finally:
        conn.close()


def upload_text(tmp_path: Path, text: str, *, name: str = "data.csv", user=None, encoding: str = "utf-8") -> DataSource:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return data_source_create(file=path, name=name, user=user)


def field(source_col, table, col, transform=None) -> dict:
    return {"source_col": source_col, "canonical_table": table, "canonical_col": col, "transform": transform}


def save(source: DataSource, fields: list[dict], options: dict | None = None, user=None) -> Mapping:
    return mapping_save(source=source, fields=fields, options=options, user=user)


def run(source: DataSource, fields: list[dict], options: dict | None = None, user=None) -> ExecutionJob:
    mapping = save(source, fields, options, user)
    return execution_run_now(source=source, mapping=mapping, user=user)


# An orders file with a customer and a rep reference (order,date,amount,customer,rep), as the load tests write it.
ORDER_FIELDS = [
    field("order", "canonical_orders", "external_id"),
    field("date", "canonical_orders", "order_date"),
    field("amount", "canonical_orders", "amount"),
    field("customer", "canonical_orders", "customer_id"),
    field("rep", "canonical_orders", "sales_rep_id"),
]


# A two-customer file and its mapping, as the upload storage and upload cache tests store and execute it.
CUSTOMERS_CSV = "customer_id,company,country\nALFKI,Alfreds Futterkiste,Germany\nBERGS,Berglunds snabbköp,Sweden\n"
CUSTOMER_FIELDS = [
    field("customer_id", "canonical_customers", "external_id"),
    field("company", "canonical_customers", "name"),
    field("country", "canonical_customers", "country"),
]


def upload_stored(tmp_path: Path, user, text: str = CUSTOMERS_CSV, name: str = "customers.csv") -> DataSource:
    """Upload `text` as the upload page does (`data_source_upload`: stored through the upload storage)."""
    from mappings.services.sources import data_source_upload

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with path.open("rb") as fh:
        return data_source_upload(file=fh, name=name, user=user).source


def propose_by_column(path: Path, **options) -> tuple[dict, dict, dict[str, list[dict]]]:
    """(profile, proposal document, {source column: its proposals}) of a file read as an upload is: sniffed,
    profiled, proposed (`options`: learned=, known_keys=, … of `propose_from_profile`)."""
    dialect = sniff_file(path).as_json()
    profile = profile_file(path=path, dialect=dialect)
    doc = propose_from_profile(file=path.name, profile=profile, dialect=dialect, **options)
    by_col: dict[str, list[dict]] = {}
    for p in doc["proposals"]:
        by_col.setdefault(p["source_col"], []).append(p)
    return profile, doc, by_col
