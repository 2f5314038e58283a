"""Versions of a mapping: what differs between two (per canonical column and option), and restoring one."""

from __future__ import annotations

import pytest

from mappings.models import Mapping
from mappings.selectors import fields_targets, mapping_targets
from mappings.services.mapping import (
    MappingInvalid,
    mapping_fields,
    mapping_fields_diff,
    mapping_version_diff,
    mapping_version_restore,
)
from tests.mappings.helpers import field, save, upload_text

CSV = "id,name,email,signup\nC1,Ann,a@x.org,2020-01-05\n"
V1 = [
    field("id", "canonical_customers", "external_id"),
    field("name", "canonical_customers", "name"),
    field("signup", "canonical_customers", "created_at", [{"op": "parse_date", "format": "%Y-%m-%d"}]),
]
V2 = [
    field("id", "canonical_customers", "external_id"),
    field("email", "canonical_customers", "name"),
    field("email", "canonical_customers", "email"),
    field("signup", None, None),
]


@pytest.fixture
def upload(executive, tmp_path):
    return upload_text(tmp_path, CSV, user=executive)


def test_the_difference_names_columns_added_removed_and_changed(upload, executive):
    v1, v2 = save(upload, V1, user=executive), save(upload, V2, {"on_missing_reference": "reject"}, user=executive)
    diff = mapping_version_diff(mapping_a=v1, mapping_b=v2)
    assert diff["added"] == [{"target": "canonical_customers.email", "source_col": "email", "transform": None}]
    assert diff["removed"] == [
        {
            "target": "canonical_customers.created_at",
            "source_col": "signup",
            "transform": [{"op": "parse_date", "format": "%Y-%m-%d"}],
        }
    ]
    assert diff["changed"] == [
        {
            "target": "canonical_customers.name",
            "before": {"source_col": "name", "transform": None},
            "after": {"source_col": "email", "transform": None},
        }
    ]
    assert diff["options"] == [{"option": "on_missing_reference", "before": "placeholder", "after": "reject"}]
    assert diff["same"] is False


def test_a_version_is_the_same_as_its_copy_whatever_the_order_unmapped_columns_and_default_options():
    shuffled = [V1[2], field("email", None, None), V1[0], V1[1]]
    diff = mapping_fields_diff(before=V1, after=shuffled, after_options={"all_or_nothing": False})
    assert diff == {"added": [], "removed": [], "changed": [], "options": [], "same": True}
    step = mapping_fields_diff(before=V1, after=[*V1[:2], {**V1[2], "transform": [{"op": "parse_date"}]}])
    assert [c["target"] for c in step["changed"]] == ["canonical_customers.created_at"]


def test_a_saved_version_loads_the_targets_of_the_fields_it_was_saved_from_less_dropped_columns(upload, executive):
    options = {"drop_columns": ["name"]}
    saved = save(upload, V2, options, user=executive)
    assert mapping_targets(saved) == fields_targets(V2, options)
    assert mapping_targets(saved) == {
        "canonical_customers.external_id": {"source_col": "id", "transform": None},
        "canonical_customers.name": {"source_col": "email", "transform": None},
        "canonical_customers.email": {"source_col": "email", "transform": None},
    }
    assert set(fields_targets(V1, options)) == {"canonical_customers.external_id", "canonical_customers.created_at"}


def test_restoring_a_version_saves_a_copy_as_the_newest_and_keeps_every_version(upload, executive):
    v1 = save(upload, V1, {"all_or_nothing": True}, user=executive)
    save(upload, V2, user=executive)
    v3 = mapping_version_restore(source=upload, version=1, user=executive)
    assert (v3.version, v3.note, v3.created_by) == (3, "restored from v1", executive)
    assert mapping_fields(v3) == mapping_fields(v1) and v3.options == v1.options
    assert mapping_version_diff(mapping_a=v1, mapping_b=v3)["same"]
    assert list(upload.mappings.order_by("version").values_list("version", flat=True)) == [1, 2, 3]


def test_restoring_a_version_the_source_does_not_have_or_that_no_longer_fits_the_file_saves_nothing(upload, executive):
    save(upload, V1, user=executive)
    with pytest.raises(Mapping.DoesNotExist):
        mapping_version_restore(source=upload, version=7)
    upload.dialect = {**upload.dialect, "columns": ["id", "name", "email"]}  # read again: no signup column
    upload.save(update_fields=["dialect"])
    with pytest.raises(MappingInvalid, match="'signup' is not a header of the file"):
        mapping_version_restore(source=upload, version=1)
    assert upload.mappings.count() == 1
