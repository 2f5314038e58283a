"""The review page's POST read by MappingReviewForm: the row formset and the options form."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from mappings.engine.transforms import ALLOWED_OPS, transform_parse
from mappings.forms import MappingReviewForm


def _post(**fields) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in fields.items():
        data[key.replace("__", "-")] = value
    return data


def test_a_mapped_row_becomes_a_field_and_a_hashed_pii_column_gets_a_hash_step():
    post = _post(
        rows="2",
        source_col__0="Email",
        target__0="canonical_customers.email",
        transform__0='[{"op": "trim"}]',
        pii__0="hash",
        confidence__0="0.9",
        reason__0="header says email",
        source_col__1="Notes",
        target__1="",
        pii__1="drop",
    )
    fields, options, errors, posted = MappingReviewForm(post).read()
    assert errors == []
    assert fields == [
        {
            "source_col": "Email",
            "canonical_table": "canonical_customers",
            "canonical_col": "email",
            "reason": "header says email",
            "transform": [{"op": "trim"}, {"op": "hash"}],
            "confidence": 0.9,
        }
    ]
    assert options == {"on_missing_reference": "placeholder", "all_or_nothing": False, "drop_columns": ["Notes"]}
    assert [row["pii_choice"] for row in posted] == ["hash", "drop"]


def test_each_bad_row_is_reported_with_its_column_and_nothing_is_kept_of_its_bad_parts():
    post = _post(
        rows="3",
        source_col__0="Amount",
        target__0="canonical_orders.amount",
        transform__0="[{op: trim}",
        source_col__1="Total",
        target__1="canonical_orders.nope",
        transform__2='[{"op": "eval"}]',
        target__2="canonical_orders.status",
        on_missing_reference="guess",
    )
    fields, options, errors, posted = MappingReviewForm(post).read()
    assert errors[0].startswith("Amount: the transform is not valid JSON")
    assert errors[1] == "Total: canonical_orders.nope is not a canonical column."
    assert errors[2] == f"row 3: unknown transform op eval; allowed: {', '.join(ALLOWED_OPS)}."
    assert errors[3] == "on missing reference must be placeholder or reject."
    assert posted[1]["canonical_table"] is None and posted[0]["transform"] is None


def test_the_options_follow_the_checkboxes_and_a_bad_confidence_is_left_empty():
    post = _post(
        rows="1",
        source_col__0="id",
        target__0="canonical_customers.external_id",
        confidence__0="high",
        on_missing_reference="reject",
        all_or_nothing="on",
        ragged_rows="repair",
    )
    fields, options, errors, _ = MappingReviewForm(post).read()
    assert errors == []
    assert fields[0]["confidence"] is None
    assert options == {"on_missing_reference": "reject", "all_or_nothing": True, "ragged_rows": "repair"}


def test_a_missing_or_silly_row_count_reads_no_rows():
    for rows in ("", "many", "-3"):
        fields, _, errors, posted = MappingReviewForm(_post(rows=rows, target__0="canonical_customers.name")).read()
        assert (fields, errors, posted) == ([], [], [])


def _post_lists(**fields) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in fields.items():
        name = key.replace("__", "-")
        if isinstance(value, list):
            data.setlist(name, value)
        else:
            data[name] = value
    return data


@pytest.mark.parametrize(
    ("boxes", "lists", "step"),
    [
        ({"op": "parse_date", "format": "%d.%m.%Y"}, {}, {"op": "parse_date", "format": "%d.%m.%Y"}),
        ({"op": "parse_number", "locale": "de"}, {}, {"op": "parse_number", "locale": "de"}),
        (
            {"op": "parse_bool", "true_values": "ja, J", "false_values": ""},
            {},
            {"op": "parse_bool", "true_values": ["ja", "J"]},
        ),
        ({"op": "cast", "type": "integer"}, {}, {"op": "cast", "type": "integer"}),
        ({"op": "multiply"}, {"columns": ["Qty", ""]}, {"op": "multiply", "columns": ["Qty"]}),
        ({"op": "divide", "value": "100"}, {"columns": [""]}, {"op": "divide", "value": 100}),
        (
            {"op": "subtract", "value": "0.25"},
            {"columns": ["Qty", "Price"]},
            {"op": "subtract", "columns": ["Qty", "Price"], "value": "0.25"},
        ),
        ({"op": "round", "places": "2"}, {}, {"op": "round", "places": 2}),
        ({"op": "abs"}, {}, {"op": "abs"}),
        (
            {"op": "concat", "separator": ", "},
            {"columns": ["City", ""]},
            {"op": "concat", "columns": ["City"], "separator": ", "},
        ),
        (
            {"op": "map_values"},
            {"from": ["S", "O", ""], "to": ["shipped", "open", ""]},
            {"op": "map_values", "map": {"S": "shipped", "O": "open"}},
        ),
        (
            {"op": "map_values", "use_default": "on", "default": "other"},
            {"from": ["S"], "to": ["shipped"]},
            {"op": "map_values", "map": {"S": "shipped"}, "default": "other"},
        ),
        ({"op": "split_part", "separator": "-", "index": "2"}, {}, {"op": "split_part", "separator": "-", "index": 2}),
        ({"op": "constant", "value": "EUR"}, {}, {"op": "constant", "value": "EUR"}),
    ],
)
def test_each_step_form_gives_the_step_json_the_engine_validates(boxes, lists, step):
    data = {f"{k}__0__k0": v for k, v in boxes.items()} | {f"{k}__0__k0": v for k, v in lists.items()}
    post = _post_lists(rows="1", source_col__0="Price", target__0="canonical_orders.amount", step__0=["k0"], **data)
    fields, _, errors, _ = MappingReviewForm(post).read()
    assert errors == []
    assert fields[0]["transform"] == [step]
    transform_parse(fields[0]["transform"])


def test_steps_keep_the_pages_order_and_a_bad_one_names_its_row_step_and_problem():
    post = _post_lists(
        rows="1", source_col__0="Price", target__0="canonical_orders.amount", step__0=["b", "a"],
        op__0__a="round", places__0__a="1", op__0__b="parse_number", locale__0__b="de",
    )  # fmt: skip
    fields, _, errors, _ = MappingReviewForm(post).read()
    assert fields[0]["transform"] == [{"op": "parse_number", "locale": "de"}, {"op": "round", "places": 1}]

    post = _post_lists(
        rows="1", source_col__0="Price", target__0="canonical_orders.amount", step__0=["a", "b"],
        op__0__a="trim", op__0__b="multiply", value__0__b="1,5",
    )  # fmt: skip
    _, _, errors, posted = MappingReviewForm(post).read()
    assert len(errors) == 1
    assert errors[0].startswith("Price: step 2: Multiply by (multiply): value: ")
    # Shown again as entered, the problem beside its step: nothing the user typed is lost.
    assert posted[0]["transform"] == [{"op": "trim"}, {"op": "multiply", "value": "1,5"}]
    assert posted[0]["step_errors"][0] == [] and errors[0].endswith(posted[0]["step_errors"][1][0])

    post = _post_lists(
        rows="1", source_col__0="Price", target__0="canonical_orders.amount", step__0=["a"], op__0__a="add"
    )
    _, _, errors, _ = MappingReviewForm(post).read()
    assert errors == ["Price: step 1: Add (add): step: Value error, give the columns or the value to operate with"]
