"""The attributes' storage and registry: keys, types, the first upload of each, and type conflicts."""

from __future__ import annotations

import pytest
from django.db import connection

from canonical.attributes import attribute_key_free, attribute_key_normalize, attribute_key_problem
from canonical.schema import TABLES
from canonical.selectors import attribute_keys
from canonical.services import AttributeTypeConflict, AttributeUse, attribute_keys_register
from mappings.models import DataSource


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Region", "region"),
        ("Sub-Category", "sub_category"),
        ("Ship Mode", "ship_mode"),
        ("shipMode", "ship_mode"),
        ("Région (EU)", "region_eu"),
        ("Discount %", "discount_percent"),
        ("  Profit  ", "profit"),
    ],
)
def test_a_header_becomes_a_lower_snake_case_key(header, key):
    assert attribute_key_normalize(header) == key


def test_a_header_without_latin_letters_gets_a_stable_key():
    assert attribute_key_normalize("地区") == attribute_key_normalize("地区")
    assert attribute_key_normalize("地区").startswith("column_")
    assert attribute_key_normalize("地区") != attribute_key_normalize("城市")


def test_a_key_named_like_a_column_of_its_table_is_refused_with_the_column_named():
    problem = attribute_key_problem("canonical_orders", "status")
    assert problem is not None and "canonical_orders" in problem and "status" in problem
    assert attribute_key_problem("canonical_orders", "customer") is not None  # the relation's name too
    assert attribute_key_problem("canonical_orders", "attributes") is not None
    assert attribute_key_problem("canonical_orders", "region") is None
    assert attribute_key_problem("canonical_orders", "Region") is not None  # not normalized


def test_the_proposer_suffixes_a_key_that_collides():
    assert attribute_key_free("canonical_orders", "Status", set()) == "status_attr"
    assert attribute_key_free("canonical_orders", "Region", {"region"}) == "region_2"


@pytest.mark.django_db
@pytest.mark.parametrize("table", [t.name for t in TABLES])
def test_every_canonical_table_has_attributes_defaulting_to_an_empty_object_and_no_index_to_keep(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT is_nullable, column_default, data_type FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = 'attributes'",
            [table],
        )
        assert cursor.fetchone() == ("NO", "'{}'::jsonb", "jsonb")
        # Read through the datasets only: a bulk load rebuilds no index of them (bench/RESULTS-attributes.md).
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%%attributes%%'", [table]
        )
        assert cursor.fetchall() == []


@pytest.mark.django_db
def test_registered_keys_are_listed_sorted_with_their_type_and_first_upload():
    first = DataSource.objects.create(name="a.csv", file_path="a.csv", sha256="a")
    second = DataSource.objects.create(name="b.csv", file_path="b.csv", sha256="b")
    attribute_keys_register(
        table="canonical_orders",
        uses=[AttributeUse("region", "text", "Region"), AttributeUse("profit", "number", "Profit")],
        source_id=first.pk,
    )
    attribute_keys_register(
        table="canonical_orders", uses=[AttributeUse("region", "text", "REGION")], source_id=second.pk
    )
    assert attribute_keys(table="canonical_orders") == [("profit", "number"), ("region", "text")]
    assert attribute_keys(table="canonical_order_lines") == []
    from canonical.models import AttributeKey

    region = AttributeKey.objects.get(table="canonical_orders", key="region")
    assert (region.source_id, region.label) == (first.pk, "Region")  # the first upload stays the origin


@pytest.mark.django_db
def test_a_key_given_another_type_is_refused_naming_the_column_and_the_registered_type():
    first = DataSource.objects.create(name="a.csv", file_path="a.csv", sha256="a")
    attribute_keys_register(
        table="canonical_orders", uses=[AttributeUse("profit", "number", "Profit")], source_id=first.pk
    )
    with pytest.raises(AttributeTypeConflict) as caught:
        attribute_keys_register(
            table="canonical_orders", uses=[AttributeUse("profit", "text", "Gewinn")], source_id=None
        )
    (message,) = caught.value.errors
    assert "'Gewinn'" in message and "number" in message and "a.csv" in message


def test_an_unknown_table_has_no_attribute_keys():
    with pytest.raises(KeyError):
        attribute_keys(table="canonical_nothing")
