"""canonical/schema.py (what mappings target) and the canonical models (what the database holds) stay in step."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from canonical.schema import TABLES

# Columns every canonical table has that no mapping fills as a column: the surrogate key, provenance (who owns the
# row), and the attributes (filled key by key: `attributes.<key>`, canonical/attributes.py).
PROVENANCE = {"id", "source_id", "source_row", "is_placeholder", "at_grain", "attributes"}
# Columns the execution engine writes itself, not a mapping (an order's amount computed from its lines, a
# line amount it computed).
ENGINE_COLUMNS = {"canonical_orders": {"amount_from_lines"}, "canonical_order_lines": {"amount_computed"}}

# Schema value type -> the model fields that store it.
FIELD_TYPES = {
    "text": (models.CharField, models.TextField),
    "date": (models.DateField,),
    "timestamp": (models.DateTimeField,),
    "money": (models.DecimalField,),
    "number": (models.DecimalField, models.FloatField),
    "integer": (models.IntegerField, models.BigIntegerField),
    "boolean": (models.BooleanField,),
}


def _fields(model) -> dict[str, models.Field]:
    return {f.column: f for f in model._meta.concrete_fields}


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_every_schema_column_is_a_model_column_of_a_compatible_type(table):
    model = apps.get_model(table.model)
    assert model._meta.db_table == table.name
    fields = _fields(model)
    for column in table.columns:
        assert column.name in fields, f"{table.name}.{column.name} is in schema.py but not on {table.model}"
        field = fields[column.name]
        if column.references:
            assert isinstance(field, models.ForeignKey), f"{table.name}.{column.name} is not a reference"
            assert field.related_model._meta.db_table == column.references
        else:
            assert isinstance(field, FIELD_TYPES[column.type]), f"{table.name}.{column.name}: {column.type}"
            if column.type == "money":
                assert field.decimal_places == 2  # money is numeric(14,2) (canonical.models.MONEY)


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_every_model_column_is_in_the_schema_or_provenance(table):
    model = apps.get_model(table.model)
    declared = set(table.column_names) | PROVENANCE | ENGINE_COLUMNS.get(table.name, set())
    assert set(_fields(model)) <= declared, f"{table.model} has columns schema.py does not name"


def test_every_canonical_model_has_a_schema_table():
    tables = {t.model for t in TABLES}
    canonical = {f"canonical.{m.__name__}" for m in apps.get_app_config("canonical").get_models()}
    assert canonical - {"canonical.AttributeKey"} == tables  # the registry of attributes is no canonical table
