"""The review page's transform editor: each step as a small form (what `mappings.forms.TransformStepForm`
reads back), a step added to a row, a row added for another target of a column or a computed column."""

from __future__ import annotations

import secrets

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from mappings.engine.transforms import AUTO_DATE_FORMATS, CAST_TYPES
from mappings.forms import ARITHMETIC_OPS, LOCALES, MAX_ROWS, PII_CHOICES, STEP_LABELS, TARGET_CHOICES, int_or_none
from mappings.models import DataSource
from mappings.selectors import data_source_get_for_user, require_data_manager

COLUMN_OPS = ("concat", "coalesce", *ARITHMETIC_OPS)
NUMBER_TYPES = ("integer", "decimal", "number", "money")  # profile types a computed column starts from


def new_step_key() -> str:
    """A key for a step added on the page: unique within its row whatever else was added."""
    return secrets.token_hex(3)


def date_choices(column: dict, current: str | None) -> list[tuple[str, str]]:
    """The date-format picker: the formats the profile found, each with the share of values it reads, then
    "auto", then the engine's other formats; the step's own format is always among them."""
    evidence = column.get("date_evidence") or {}
    candidates = list(evidence.get("candidates") or [])
    if not candidates and evidence.get("format"):  # profiled before candidates were kept
        candidates = [{"format": evidence["format"], "parse_rate": evidence.get("parse_rate")}]
        candidates += [{"format": f, "parse_rate": None} for f in evidence.get("alternatives") or []]
    choices: list[tuple[str, str]] = []
    for c in candidates:
        rate = c.get("parse_rate")
        read = f" — reads {rate * 100:.0f}% of the values" if rate is not None else " — reads the values as well"
        best = " (the profile's choice)" if c["format"] == evidence.get("format") else ""
        choices.append((c["format"], f"{c['format']}{read}{best}"))
    choices.append(("auto", "auto — the first format that reads each value"))
    known = {value for value, _ in choices}
    choices += [(f, f) for f in AUTO_DATE_FORMATS if f not in known]
    if current and current not in {value for value, _ in choices}:
        choices.insert(0, (current, current))
    return choices


def step_view(step: dict, *, key: str, row: int, column: dict, columns: list[str]) -> dict:
    """What `mappings/_step.html` renders for one step of review row `row`."""
    op = step.get("op")
    operands = [c for c in step.get("columns") or [] if isinstance(c, str)]
    view = {
        "key": key,
        "row": row,
        "op": op,
        "label": STEP_LABELS.get(op, op),
        "step": step,
        "prefix": f"{row}-{key}",
        "operands": [*operands, ""] if op in COLUMN_OPS else [],  # one empty box to add a column
        "arithmetic": op in ARITHMETIC_OPS,
        "columns": columns,
    }
    if op == "parse_date":
        view["date_choices"] = date_choices(column, step.get("format") or "auto")
        view["current"] = step.get("format") or "auto"
    elif op == "parse_number":
        view["locales"] = LOCALES
        view["current"] = step.get("locale") or "auto"
        view["profile_locale"] = column.get("locale")
    elif op == "cast":
        view["types"] = CAST_TYPES
    elif op == "map_values":
        mapping = step.get("map") if isinstance(step.get("map"), dict) else {}
        view["pairs"] = [*((k, "" if v is None else v) for k, v in mapping.items()), ("", "")]
        view["values"] = [t["value"] for t in column.get("top") or []][:8]
    elif op == "negate":
        view["where_column"] = step.get("column") or ""
        view["where_values"] = ", ".join(str(v) for v in step.get("values") or [])
    elif op == "parse_bool":
        view["true_values"] = ", ".join(step.get("true_values") or [])
        view["false_values"] = ", ".join(step.get("false_values") or [])
    return view


def row_steps(row: dict, *, index: int, columns: list[str]) -> list[dict]:
    """The step forms of a review row (its transform, without the PII hash the PII choice adds), each with the
    problems a failed save found in it (`step_errors`, as `ReviewRowForm.row` gives them)."""
    errors = row.get("step_errors") or []
    return [
        {
            **step_view(step, key=str(n), row=index, column=row.get("column") or {}, columns=columns),
            "errors": errors[n] if n < len(errors) else [],
        }
        for n, step in enumerate(row.get("transform") or [])
        if isinstance(step, dict)
    ]


def _source(request: HttpRequest, source_id: int) -> DataSource:
    require_data_manager(request.user)
    return data_source_get_for_user(request.user, source_id)


def _row_index(request: HttpRequest) -> int:
    index = int_or_none(request.GET.get("row"))
    if index is None or not 0 <= index < MAX_ROWS:
        raise Http404("No such review row")
    return index


@login_required
def review_step(request: HttpRequest, source_id: int) -> HttpResponse:
    """A new step form for review row `row` (HTMX): the op chosen in the row's "add a step" list."""
    source = _source(request, source_id)
    index = _row_index(request)
    op = request.GET.get(f"add-op-{index}") or request.GET.get("op")
    if not op:
        return HttpResponse(status=204)  # no step chosen yet: htmx swaps nothing
    if op not in STEP_LABELS:
        raise Http404("No such transform step")
    columns = list(source.dialect.get("columns") or [])
    profiles = {c["name"]: c for c in source.profile.get("columns", [])}
    column = profiles.get(request.GET.get("source_col") or "", {})
    step = {"op": op, **({"format": (column.get("date_evidence") or {}).get("format")} if op == "parse_date" else {})}
    view = step_view(step, key=new_step_key(), row=index, column=column, columns=columns)
    return render(request, "mappings/_step.html", {"s": view})


@login_required
def review_row(request: HttpRequest, source_id: int) -> HttpResponse:
    """A new review row (HTMX): another target for column `source_col`, or a computed column (no
    `source_col`), which starts from a column and multiplies it by another."""
    source = _source(request, source_id)
    index = _row_index(request)
    columns = list(source.dialect.get("columns") or [])
    source_col = request.GET.get("source_col") or None
    if source_col is not None and source_col not in columns:
        raise Http404("No such column")
    profiles = {c["name"]: c for c in source.profile.get("columns", [])}
    column = profiles.get(source_col or "", {})
    transform = None
    if source_col is None and columns:
        numbers = [c["name"] for c in source.profile.get("columns", []) if c.get("type") in NUMBER_TYPES]
        start = (numbers or columns)[:2]
        transform = [{"op": "coalesce", "columns": start[:1]}, {"op": "multiply", "columns": start[1:2]}]
    row = {
        "index": index,
        "source_col": source_col,
        "target": "",
        "transform": transform,
        "confidence": None,
        "reason": "added on the review page",
        "column": column,
        "pii": column.get("pii"),
        "pii_choice": "keep",
        "added": True,
    }
    row["steps"] = row_steps(row, index=index, columns=columns)
    context = {
        "source": source,
        "r": row,
        "target_choices": TARGET_CHOICES,
        "pii_choices": PII_CHOICES,
        "step_labels": STEP_LABELS.items(),
    }
    return render(request, "mappings/review.html#row", context)
