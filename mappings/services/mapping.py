"""Mappings: validate a list of field mappings against the file and the canonical schema; save versions."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.db.models import Max

from accounts.models import User
from canonical.attributes import VALUE_TYPE_TO_ATTRIBUTE, attribute_key, attribute_key_problem
from canonical.schema import TABLE_ORDER, TABLES_BY_NAME
from canonical.selectors import attribute_registry
from canonical.services import AttributeUse, attribute_type_problems
from mappings.engine.transforms import (
    COMPUTING_OPS,
    PRODUCT_PRICE_TARGET,
    SqlParams,
    TransformInvalid,
    compile_steps,
    transform_parse,
)
from mappings.models import DataSource, FieldMapping, Mapping
from mappings.selectors import fields_targets

ON_MISSING_REFERENCE = ("placeholder", "reject")
DEFAULT_OPTIONS = {
    "on_missing_reference": "placeholder",
    "all_or_nothing": False,
    "drop_columns": [],
    "ragged_rows": "reject",  # rows with more fields than the header: reject, or repair (duck.py)
    # The table whose rows the file's rows are (docs/SCHEMA.md, "Who owns a column"); None: the last of the mapped
    # tables in dependency order.
    "grain": None,
    # Rows left out, neither loaded nor rejected, counted in the report: {"column", "values", "reason"} (a
    # statement's opening / closing balance lines); None: every row loads.
    "skip_rows": None,
}
MAX_SKIP_VALUES = 50
RAGGED_ROWS = ("reject", "repair")


class MappingInvalid(ValueError):
    """A mapping that cannot be saved or executed; `errors` lists every problem, for the user."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


def _label(index: int, field: dict) -> str:
    target = f"{field.get('canonical_table')}.{field.get('canonical_col')}"
    return f"mappings[{index}] ({field.get('source_col')!r} → {target})"


def mapping_options_validate(options: dict | None, *, columns: list[str]) -> tuple[dict, list[str]]:
    """Options merged over the defaults, and the problems found in them."""
    errors: list[str] = []
    if options is None:
        options = {}
    if not isinstance(options, dict):
        return dict(DEFAULT_OPTIONS), ["options must be an object"]
    merged = {**DEFAULT_OPTIONS, **options}
    unknown = set(options) - set(DEFAULT_OPTIONS)
    if unknown:
        errors.append(f"options: unknown keys {sorted(unknown)}; known: {sorted(DEFAULT_OPTIONS)}")
    if merged["on_missing_reference"] not in ON_MISSING_REFERENCE:
        errors.append(f"options.on_missing_reference must be one of {', '.join(ON_MISSING_REFERENCE)}")
    if not isinstance(merged["all_or_nothing"], bool):
        errors.append("options.all_or_nothing must be true or false")
    if merged["ragged_rows"] not in RAGGED_ROWS:
        errors.append(f"options.ragged_rows must be one of {', '.join(RAGGED_ROWS)}")
    if merged["grain"] is not None and merged["grain"] not in TABLES_BY_NAME:
        errors.append(f"options.grain must be a canonical table or null, not {merged['grain']!r}")
    errors += _skip_rows_problems(merged["skip_rows"], columns)
    drop = merged["drop_columns"]
    if not isinstance(drop, list) or not all(isinstance(c, str) for c in drop):
        errors.append("options.drop_columns must be a list of column headers")
    else:
        errors.extend(f"options.drop_columns: {c!r} is not a header of the file" for c in drop if c not in columns)
    return merged, errors


def _skip_rows_problems(skip, columns: list[str]) -> list[str]:
    if skip is None:
        return []
    if not isinstance(skip, dict) or set(skip) - {"column", "values", "reason"}:
        return ['options.skip_rows must be null or {"column", "values", "reason"}']
    values = skip.get("values")
    problems = []
    if skip.get("column") not in columns:
        problems.append(f"options.skip_rows: column {skip.get('column')!r} is not a header of the file")
    if not isinstance(values, list) or not 0 < len(values) <= MAX_SKIP_VALUES:
        problems.append(f"options.skip_rows: values must be a list of 1 to {MAX_SKIP_VALUES} values")
    elif not all(isinstance(v, str | int) for v in values):
        problems.append("options.skip_rows: each value must be a text or a whole number")
    if not isinstance(skip.get("reason", ""), str) or len(skip.get("reason", "")) > 300:
        problems.append("options.skip_rows: reason must be a text of at most 300 characters")
    return problems


def mapping_validate(*, source: DataSource, fields: Any, options: dict | None = None) -> list[str]:
    """Every problem with `fields` (a list of field mappings) for this source; empty when it can run.

    Checks the shape, the canonical table/column names, that source columns are headers of the file,
    every transform step (allow-list, parameters, columns), duplicate targets and required columns.
    """
    columns: list[str] = list(source.dialect.get("columns") or [])
    merged, errors = mapping_options_validate(options, columns=columns)
    dropped = set(merged["drop_columns"]) if isinstance(merged["drop_columns"], list) else set()
    if not isinstance(fields, list):
        return [*errors, "mappings must be a list of field mappings"]
    targets: dict[tuple[str, str], int] = {}
    uses: dict[str, list[AttributeUse]] = {}  # attributes per table
    for index, field in enumerate(fields):
        if not isinstance(field, dict):
            errors.append(f"mappings[{index}]: must be an object")
            continue
        label = _label(index, field)
        table_name, col_name, source_col = (
            field.get("canonical_table"),
            field.get("canonical_col"),
            field.get("source_col"),
        )
        if source_col is not None and not isinstance(source_col, str):
            errors.append(f"{label}: source_col must be a header (text) or null")
            continue
        if source_col is not None and source_col not in columns:
            errors.append(f"{label}: source column {source_col!r} is not a header of the file")
            continue
        if table_name is None and col_name is None:
            continue  # left unmapped
        if source_col in dropped:
            continue  # the user chose to drop this column: never read
        if table_name not in TABLES_BY_NAME:
            errors.append(f"{label}: unknown canonical table {table_name!r}")
            continue
        table = TABLES_BY_NAME[table_name]
        key_name = attribute_key(col_name) if isinstance(col_name, str) else None
        if key_name is not None:
            problem = attribute_key_problem(table_name, key_name)
            if problem:
                errors.append(f"{label}: {problem}")
                continue
        elif col_name not in table.column_names:
            errors.append(
                f"{label}: {table_name} has no column {col_name!r}; columns: {', '.join(table.column_names)}, "
                "or attributes.<key> to keep the column as an attribute"
            )
            continue
        try:
            steps = transform_parse(field.get("transform"), columns=columns)
        except TransformInvalid as exc:
            errors.append(f"{label}: {exc}")
            continue
        if source_col is None and not (steps and steps[0].op in COMPUTING_OPS):
            errors.append(
                f"{label}: a computed column (no source_col) must start with constant, concat, coalesce or "
                "product_price"
            )
            continue
        problem = _product_price_problem(table_name, col_name, source_col, steps)
        if problem:
            errors.append(f"{label}: {problem}")
            continue
        key = (table_name, col_name)
        if key in targets:
            errors.append(f"{label}: {table_name}.{col_name} is already filled by mappings[{targets[key]}]")
            continue
        targets[key] = index
        if key_name is not None:
            uses.setdefault(table_name, []).append(
                AttributeUse(key_name, attribute_type(source_col, steps), source_col or col_name)
            )
    if uses:
        registry = attribute_registry(tables=list(uses))
        for table_name, table_uses in uses.items():
            registered = {k: row for (t, k), row in registry.items() if t == table_name}
            errors.extend(attribute_type_problems(table=table_name, uses=table_uses, registered=registered))
    price = next((i for i, f in enumerate(fields) if isinstance(f, dict) and _takes_product_price(f)), None)
    if price is not None and ("canonical_order_lines", "product_id") not in targets:
        errors.append(
            f"{_label(price, fields[price])}: the unit price comes from the line's product: map a column to "
            "canonical_order_lines.product_id"
        )
    if isinstance(options, dict) and options.get("grain") and options["grain"] not in {t for t, _ in targets}:
        errors.append(f"options.grain: {options['grain']} is not one of the tables this mapping fills")
    for table_name in sorted({t for t, _ in targets}):
        table = TABLES_BY_NAME[table_name]
        mapped = {c for t, c in targets if t == table_name and attribute_key(c) is None}
        if not mapped:
            errors.append(
                f"{table_name}: only attributes are mapped; map its identifier or the columns that make a row"
            )
            continue
        for name in table.missing_required(mapped):
            errors.append(f"{table_name}.{name} is required: map a column to it")
    if not targets and not errors:
        errors.append("nothing is mapped: map at least one column to a canonical table")
    return errors


def _product_price_problem(table: str, col: str, source_col: str | None, steps: list) -> str:
    """Why a field's product_price step cannot run ("" when it can): it is the whole of a computed unit price."""
    if not any(s.op == "product_price" for s in steps):
        return ""
    if (table, col) != PRODUCT_PRICE_TARGET:
        return "product_price fills canonical_order_lines.unit_price only"
    if source_col is not None or len(steps) != 1:
        return "product_price is the only step of a computed column (no source_col)"
    return ""


def _takes_product_price(field: dict) -> bool:
    transform = field.get("transform")
    return isinstance(transform, list) and any(
        isinstance(s, dict) and s.get("op") == "product_price" for s in transform
    )


def mapping_grain(fields: list[dict], options: dict | None = None) -> str | None:
    """The table whose rows the file's rows are (docs/SCHEMA.md, "Who owns a column"): the option `grain`, else
    the last table in dependency order that the fields fill with a canonical column (attributes alone fill
    none; a column the options drop fills nothing); None when they fill none."""
    options = options or {}
    if options.get("grain"):
        return options["grain"]
    dropped = set(options.get("drop_columns") or [])
    filled = {
        f["canonical_table"]
        for f in fields
        if f.get("canonical_table") in TABLES_BY_NAME
        and f.get("canonical_col")
        and isinstance(f["canonical_col"], str)
        and attribute_key(f["canonical_col"]) is None
        and not (f.get("source_col") and f["source_col"] in dropped)
    }
    return next((name for name in reversed(TABLE_ORDER) if name in filled), None)


def mapping_grain_option(fields: list[dict], proposed: str | None) -> str | None:
    """The option `grain` that makes the file's rows the proposer's table `proposed` (proposer.propose.file_grain):
    None when the fields give that table without the option, or fill no column of it (then it cannot be the grain)."""
    if not proposed or proposed == mapping_grain(fields):
        return None
    filled = {
        f.get("canonical_table") for f in fields if f.get("canonical_col") and not attribute_key(f["canonical_col"])
    }
    return proposed if proposed in filled else None


def attribute_type(source_col: str | None, steps: list) -> str:
    """The type of the attribute a column's steps produce: text unless they read a number, a date or a
    boolean (parse_number, parse_date, parse_bool, cast)."""
    return VALUE_TYPE_TO_ATTRIBUTE[compile_steps(source_col, steps, SqlParams()).type]


@transaction.atomic
def mapping_save(
    *, source: DataSource, fields: list[dict], options: dict | None = None, user: User | None, note: str = ""
) -> Mapping:
    """Save `fields` as the source's next mapping version (who and when are recorded on the row).

    Raises `MappingInvalid` with every problem when the mapping cannot run.
    """
    errors = mapping_validate(source=source, fields=fields, options=options)
    if errors:
        raise MappingInvalid(errors)
    merged, _ = mapping_options_validate(options, columns=list(source.dialect.get("columns") or []))
    # Lock the source row so that two concurrent saves cannot take the same version number.
    DataSource.objects.select_for_update().filter(pk=source.pk).first()
    version = (source.mappings.aggregate(v=Max("version"))["v"] or 0) + 1
    mapping = Mapping.objects.create(
        source=source,
        version=version,
        options=merged,
        note=note[:255],
        created_by=user if user is not None and user.is_authenticated else None,
    )
    FieldMapping.objects.bulk_create(
        FieldMapping(
            mapping=mapping,
            source=source,
            version=version,
            source_col=field.get("source_col"),
            canonical_table=field.get("canonical_table"),
            canonical_col=field.get("canonical_col"),
            transform=field.get("transform"),
            confidence=field.get("confidence"),
            reason=str(field.get("reason") or ""),
            position=position,
        )
        for position, field in enumerate(fields)
    )
    if source.status in (DataSource.Status.UPLOADED, DataSource.Status.PROFILED):
        source.status = DataSource.Status.MAPPED
        source.save(update_fields=["status"])
    return mapping


def mapping_fields(mapping: Mapping) -> list[dict]:
    """A saved mapping's field mappings in the contract's shape."""
    return [
        {
            "source_col": f.source_col,
            "canonical_table": f.canonical_table,
            "canonical_col": f.canonical_col,
            "transform": f.transform,
            "confidence": f.confidence,
            "reason": f.reason,
        }
        for f in mapping.fields.order_by("position")
    ]


def _same(a: Any, b: Any) -> bool:
    # JSONB does not keep key order: compare canonical JSON text.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def mapping_fields_diff(
    *, before: list[dict], after: list[dict], before_options: dict | None = None, after_options: dict | None = None
) -> dict:
    """What changes from one mapping to another, per canonical column: {"added": [...], "removed": [...],
    "changed": [...], "options": [...], "same": bool}. Added and removed entries are {"target",
    "source_col", "transform"}; changed ones {"target", "before", "after"}; options {"option", "before",
    "after"}. Unmapped source columns fill nothing, so they are no difference."""
    a, b = fields_targets(before, before_options), fields_targets(after, after_options)
    added = [{"target": t, **b[t]} for t in sorted(b.keys() - a.keys())]
    removed = [{"target": t, **a[t]} for t in sorted(a.keys() - b.keys())]
    changed = [
        {"target": t, "before": a[t], "after": b[t]} for t in sorted(a.keys() & b.keys()) if not _same(a[t], b[t])
    ]
    old, new = {**DEFAULT_OPTIONS, **(before_options or {})}, {**DEFAULT_OPTIONS, **(after_options or {})}
    for merged in (old, new):
        if isinstance(merged.get("drop_columns"), list):
            merged["drop_columns"] = sorted(merged["drop_columns"])
    options = [
        {"option": k, "before": old.get(k), "after": new.get(k)}
        for k in sorted(old.keys() | new.keys())
        if not _same(old.get(k), new.get(k))
    ]
    return {
        "added": added,
        "removed": removed,
        "changed": changed,
        "options": options,
        "same": not (added or removed or changed or options),
    }


def mapping_version_diff(*, mapping_a: Mapping, mapping_b: Mapping) -> dict:
    """What changes from saved version `mapping_a` to `mapping_b` of one upload (`mapping_fields_diff`).

    Executing `mapping_b` after `mapping_a` empties the removed columns on the rows the upload wrote
    (docs/TRANSFORMS.md, "A new version replaces the old one")."""
    if mapping_a.source_id != mapping_b.source_id:
        raise ValueError("both versions must belong to the same upload")
    return mapping_fields_diff(
        before=mapping_fields(mapping_a),
        after=mapping_fields(mapping_b),
        before_options=mapping_a.options,
        after_options=mapping_b.options,
    )


def mapping_version_restore(*, source: DataSource, version: int, user: User | None = None) -> Mapping:
    """Save version `version` of the source's mapping again, as its next version (nothing is deleted).

    Raises Mapping.DoesNotExist for a version the source does not have, and `MappingInvalid` when the old
    version no longer fits the file (it was read again with other columns)."""
    old = source.mappings.get(version=version)
    return mapping_save(
        source=source,
        fields=mapping_fields(old),
        options=old.options,
        user=user,
        note=f"restored from v{old.version}",
    )
