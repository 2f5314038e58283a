"""Injection attempts through column names, transform parameters, view names, filters and sort fields are
refused (or stay data); DuckDB cannot be made to read another file."""

from __future__ import annotations

import duckdb
import pytest
from django.core.exceptions import ValidationError

from canonical.models import Customer
from dashboards.filters import dashboard_filters_parse
from dashboards.kpi.query import kpi_query_build
from mappings.intake.duck import duckdb_connect_locked
from mappings.services.execute import execution_run_now
from mappings.services.mapping import mapping_save, mapping_validate
from mappings.services.upload import data_source_create
from tests.dashboards.conftest import _fresh_cache, sales_dashboard, sales_kpi  # noqa: F401  (fixtures)

SQL = "x'); DROP TABLE canonical_customers; --"


@pytest.fixture
def source(executive, tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "c.csv"
    path.write_text(f'id,"{SQL.replace(chr(34), "")}"\n1,Ann\n')
    return data_source_create(file=path, user=executive)


def test_a_transform_op_outside_the_allow_list_is_refused(source):
    fields = [
        {"source_col": "id", "canonical_table": "canonical_customers", "canonical_col": "external_id"},
        {
            "source_col": "id",
            "canonical_table": "canonical_customers",
            "canonical_col": "name",
            "transform": [{"op": "read_csv", "path": "/etc/passwd"}],
        },
    ]
    errors = mapping_validate(source=source, fields=fields)
    assert any("unknown op 'read_csv'" in e for e in errors)


def test_a_column_that_is_not_a_header_of_the_file_is_refused(source):
    fields = [
        {"source_col": "id", "canonical_table": "canonical_customers", "canonical_col": "external_id"},
        {"source_col": "name\" FROM read_csv('/etc/passwd') --", "canonical_table": "canonical_customers",
         "canonical_col": "name"},
    ]  # fmt: skip
    assert mapping_validate(source=source, fields=fields)


def test_a_target_table_or_column_outside_the_schema_is_refused(source):
    for table, col in (("pg_authid", "rolpassword"), ("canonical_customers", "name; DROP TABLE x")):
        fields = [{"source_col": "id", "canonical_table": table, "canonical_col": col}]
        assert mapping_validate(source=source, fields=fields), (table, col)


def test_sql_in_a_header_and_in_transform_parameters_is_loaded_as_text(source, executive):
    header = source.dialect["columns"][1]
    fields = [
        {"source_col": "id", "canonical_table": "canonical_customers", "canonical_col": "external_id"},
        {"source_col": header, "canonical_table": "canonical_customers", "canonical_col": "name"},
        {
            "source_col": None,
            "canonical_table": "canonical_customers",
            "canonical_col": "city",
            "transform": [{"op": "constant", "value": "'); SELECT * FROM read_csv('/etc/passwd'); --"}],
        },
    ]
    mapping = mapping_save(source=source, fields=fields, user=executive)
    job = execution_run_now(source=source, mapping=mapping, user=executive)
    assert job.status == "succeeded", job.error
    customer = Customer.objects.get(external_id="1")
    assert customer.name == "Ann"
    assert customer.city == "'); SELECT * FROM read_csv('/etc/passwd'); --"


def test_the_duckdb_connection_cannot_read_any_other_file(tmp_path):
    allowed = tmp_path / "ok.csv"
    allowed.write_text("a\n1\n")
    conn = duckdb_connect_locked(allowed)
    try:
        with pytest.raises(duckdb.Error):
            conn.execute("SELECT * FROM read_csv('/etc/passwd')").fetchall()
        with pytest.raises(duckdb.Error):
            conn.execute("SET enable_external_access = true")
        assert conn.execute("SELECT count(*) FROM read_csv(?)", [str(allowed)]).fetchone()[0] == 1
    finally:
        conn.close()


@pytest.mark.parametrize(
    "options",
    [
        {"order_by": ["revenue; DROP TABLE canonical_orders"]},
        {"group_by": ["sales_rep_id) OR 1=1 --"]},
        {"measures": ["pg_sleep(10)"]},
        {"limit": "1; DELETE FROM canonical_orders"},
        {"where": "1=1"},
    ],
)
def test_sort_group_and_measure_fields_outside_the_view_are_refused(options):
    with pytest.raises(ValidationError):
        kpi_query_build(view_name="monthly_revenue", options=options)


def test_an_unknown_view_name_is_refused():
    with pytest.raises(ValidationError, match="unknown KPI view"):
        kpi_query_build(view_name="canonical_customers; DROP TABLE x")


@pytest.mark.parametrize("params", [{"rep": "1 OR 1=1"}, {"team": "5; --"}, {"from": "2024-01-01' OR '1'='1"}])
def test_filter_parameters_that_are_not_ids_or_dates_are_refused(params):
    with pytest.raises(ValidationError):
        dashboard_filters_parse(params)


def test_filter_injection_through_the_data_api_is_a_400_and_returns_no_rows(client, rep, sales_dashboard):  # noqa: F811
    client.force_login(rep)
    response = client.get(f"/api/dashboard/{sales_dashboard.pk}/data", {"rep": "1 OR 1=1"})
    assert response.status_code == 400
    assert "rows" not in response.content.decode()
