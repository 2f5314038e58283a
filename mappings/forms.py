"""The review page's input: one form per review row in a formset, plus the mapping's options.

The page posts `rows` (how many rows) and `<field>-<row>` names (`target-0`, `pii-0`, ...), which
predate the formset; `ReviewRowFormSet` reads those names, so the template and its JavaScript keep them.
A row's transform comes from its step forms: `step-<row>` repeated (each step's key, in order), and per
step `op-<row>-<key>` with its parameters (`format-0-a1`, `columns-0-a1` repeated, `from-`/`to-` pairs);
`TransformStepForm` turns them into the engine's step JSON. A post without steps may give the JSON itself
in `transform-<row>` (the API's shape). Lenient where the page always was: a bad confidence is None, an
unknown PII choice is "keep".
"""

from __future__ import annotations

import json

from django import forms
from django.forms.formsets import INITIAL_FORM_COUNT, MAX_NUM_FORM_COUNT, MIN_NUM_FORM_COUNT, TOTAL_FORM_COUNT
from django.utils.functional import cached_property

from canonical.attributes import attribute_key, attribute_key_problem
from canonical.schema import TABLES, TABLES_BY_NAME
from mappings.engine.transforms import ALLOWED_OPS, CAST_TYPES, TransformInvalid, transform_parse
from mappings.services.mapping import ON_MISSING_REFERENCE

MAX_ROWS = 2000
PII_CHOICES = (("keep", "Keep"), ("hash", "Hash"), ("drop", "Drop"))
TARGET_CHOICES = [
    (table.label, [(f"{table.name}.{col.name}", f"{table.name}.{col.name}") for col in table.columns])
    for table in TABLES
]


def int_or_none(value) -> int | None:
    """The posted value as an int, or None when it is not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# What each op is called on the page, in the "add a step" list's order.
STEP_LABELS = {
    "parse_date": "Read as a date",
    "parse_number": "Read as a number",
    "parse_bool": "Read as yes/no",
    "cast": "Convert to a type",
    "trim": "Trim spaces",
    "upper": "UPPER CASE",
    "lower": "lower case",
    "title": "Title Case",
    "map_values": "Replace values",
    "split_part": "Take a part of the text",
    "concat": "Join other columns",
    "coalesce": "First non-empty of columns",
    "constant": "A fixed value",
    "multiply": "Multiply by",
    "divide": "Divide by",
    "add": "Add",
    "subtract": "Subtract",
    "round": "Round",
    "abs": "Absolute value",
    "negate": "Flip the sign",
    "hash": "Hash (SHA-256)",
    "product_price": "The line's product's price",
}
assert set(STEP_LABELS) == set(ALLOWED_OPS), "every op of the allow-list has a label on the page"
ARITHMETIC_OPS = ("multiply", "divide", "add", "subtract")
LOCALES = (
    ("auto", "decide per value"),
    ("en", "1,234.56 (point for decimals)"),
    ("de", "1.234,56 (comma for decimals)"),
)
MAX_STEPS = 20


def _words(text: str) -> list[str] | None:
    """A comma-separated list typed in a box ("yes, y, 1"), or None when the box is empty."""
    values = [w.strip() for w in (text or "").split(",") if w.strip()]
    return values or None


class TransformStepForm(forms.Form):
    """One transform step as the page's small form posts it; `step()` is the engine's step JSON.

    Every parameter box is optional here: which ones a step reads depends on its op, and the engine's own
    schema (`transform_parse`) has the last word on the step it builds."""

    op = forms.ChoiceField(choices=[(op, STEP_LABELS[op]) for op in ALLOWED_OPS])
    format = forms.CharField(required=False, max_length=64, strip=False)
    locale = forms.ChoiceField(required=False, choices=LOCALES)
    type = forms.ChoiceField(required=False, choices=[(t, t) for t in CAST_TYPES])
    separator = forms.CharField(required=False, max_length=20, strip=False)
    index = forms.IntegerField(required=False, min_value=1, max_value=1000)
    value = forms.CharField(required=False, max_length=500, strip=False)
    places = forms.IntegerField(required=False, min_value=0, max_value=6)
    true_values = forms.CharField(required=False, max_length=500)
    false_values = forms.CharField(required=False, max_length=500)
    default = forms.CharField(required=False, max_length=500, strip=False)
    use_default = forms.BooleanField(required=False)

    def add_prefix(self, field_name: str) -> str:
        return f"{field_name}-{self.prefix}"

    def _list(self, name: str) -> list[str]:
        getlist = getattr(self.data, "getlist", None)
        values = getlist(self.add_prefix(name)) if getlist else [self.data.get(self.add_prefix(name), "")]
        return [v for v in values if v is not None]

    def as_entered(self) -> dict:
        """The step as the page posted it, not validated: shown again with its errors after a failed save."""
        step: dict = {"op": self.data.get(self.add_prefix("op")) or ""}
        for name in ("format", "locale", "type", "separator", "index", "value", "places"):
            if (value := self.data.get(self.add_prefix(name))) is not None:
                step[name] = value
        for name in ("true_values", "false_values"):
            if (value := self.data.get(self.add_prefix(name))) is not None:
                step[name] = _words(value) or []
        if columns := [c for c in self._list("columns") if c]:
            if step["op"] == "negate":
                step["column"], step["values"] = columns[0], _words(step.pop("value", "")) or []
            else:
                step["columns"] = columns
        froms, tos = self._list("from"), self._list("to")
        if froms or tos:
            step["map"] = {f: t for f, t in zip(froms, tos, strict=False) if f != "" or t != ""}
        if self.data.get(self.add_prefix("use_default")):
            step["default"] = self.data.get(self.add_prefix("default"), "")
        return step

    def clean(self) -> dict:
        data = super().clean()
        op = data.get("op")
        if not op:
            return data
        step: dict = {"op": op}
        if op == "parse_date":
            step["format"] = data.get("format") or "auto"
        elif op == "parse_number":
            step["locale"] = data.get("locale") or "auto"
        elif op == "parse_bool":
            for name in ("true_values", "false_values"):
                if _words(data.get(name, "")):
                    step[name] = _words(data[name])
        elif op == "cast":
            step["type"] = data.get("type") or "text"
        elif op in ("concat", "coalesce", *ARITHMETIC_OPS):
            step["columns"] = [c for c in self._list("columns") if c]
            if op == "concat":
                step["separator"] = data.get("separator") if data.get("separator") is not None else " "
            if op in ARITHMETIC_OPS:
                if not step["columns"]:
                    del step["columns"]
                if (data.get("value") or "").strip():
                    step["value"] = data["value"].strip()
        elif op == "map_values":
            froms, tos = self._list("from"), self._list("to")
            step["map"] = {f: t for f, t in zip(froms, tos, strict=False) if f != "" or t != ""}
            if data.get("use_default"):
                step["default"] = data.get("default") or None
        elif op == "constant":
            step["value"] = data.get("value", "")
        elif op == "split_part":
            step["separator"] = data.get("separator") or ","
            step["index"] = data.get("index") or 1
        elif op == "round":
            step["places"] = data.get("places") or 0
        elif op == "negate":
            # Only where a column holds one of some values (a debit / credit marker), when both are given.
            column = next((c for c in self._list("columns") if c), None)
            if column or _words(data.get("value", "")):
                step["column"], step["values"] = column, _words(data.get("value", ""))
        try:
            parsed = transform_parse([step])[0]
        except TransformInvalid as exc:
            raise forms.ValidationError(str(exc).replace("step 1 ", f"{STEP_LABELS[op]} ", 1)) from None
        if "value" in step and op in ARITHMETIC_OPS:
            # The number as the engine reads it ("1,5" is refused above); an exact decimal stays text.
            integral = parsed.value == parsed.value.to_integral_value()
            step["value"] = int(parsed.value) if integral else str(parsed.value)
        self.step = step
        return data


class TargetField(forms.ChoiceField):
    """A canonical column of TARGET_CHOICES, or an attribute: `<table>.attributes.<key>` ("Keep as attribute")."""

    def valid_value(self, value) -> bool:
        table, _, column = str(value).partition(".")
        key = attribute_key(column)
        if key is not None and table in TABLES_BY_NAME:
            return attribute_key_problem(table, key) is None
        return super().valid_value(value)


class ReviewRowForm(forms.Form):
    """One review row: a source column, its canonical target, its transform steps and its PII choice."""

    source_col = forms.CharField(required=False, strip=False)
    transform = forms.CharField(required=False)
    target = TargetField(
        required=False,
        choices=[("", "")] + TARGET_CHOICES,
        error_messages={"invalid_choice": "%(value)s is not a canonical column."},
    )
    confidence = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)
    pii = forms.CharField(required=False)

    def add_prefix(self, field_name: str) -> str:
        return f"{field_name}-{self.prefix}"

    @property
    def label(self) -> str:
        return self.data.get(self.add_prefix("source_col")) or f"row {int(self.prefix) + 1}"

    def clean_source_col(self) -> str | None:
        return self.cleaned_data["source_col"] or None

    def step_keys(self) -> list[str]:
        getlist = getattr(self.data, "getlist", None)
        return list(getlist(self.add_prefix("step")))[:MAX_STEPS] if getlist else []

    def clean_transform(self) -> list[dict] | None:
        keys = self.step_keys()
        if keys:
            return self._steps(keys)
        raw = self.cleaned_data["transform"]
        if not raw:
            return None
        try:
            transform = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"the transform is not valid JSON ({exc.msg} at column {exc.colno}).") from None
        if not isinstance(transform, list) or not all(isinstance(s, dict) for s in transform):
            raise forms.ValidationError('the transform must be a list of steps like [{"op": "trim"}].')
        unknown = [str(s.get("op")) for s in transform if s.get("op") not in ALLOWED_OPS]
        if unknown:
            raise forms.ValidationError(
                f"unknown transform op {', '.join(unknown)}; allowed: {', '.join(ALLOWED_OPS)}."
            )
        return transform

    def _steps(self, keys: list[str]) -> list[dict] | None:
        """The row's step forms, in the page's order, as the engine's step JSON. Each step as entered, with
        its problems, stays in `entered_steps` for showing the row again when one is wrong."""
        steps, problems = [], []
        self.entered_steps: list[tuple[dict, list[str]]] = []
        for number, key in enumerate(keys, start=1):
            form = TransformStepForm(self.data, prefix=f"{self.prefix}-{key}")
            if form.is_valid():
                steps.append(form.step)
                self.entered_steps.append((form.step, []))
            else:
                mine = [m for messages in form.errors.values() for m in messages]
                problems += [f"step {number}: {m}" for m in mine]
                self.entered_steps.append((form.as_entered(), mine))
        if problems:
            raise forms.ValidationError(problems)
        return steps or None

    def clean_confidence(self) -> float | None:
        try:
            return float(self.cleaned_data["confidence"])
        except (TypeError, ValueError):
            return None

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"][:500]

    def clean_pii(self) -> str:
        pii = self.cleaned_data["pii"]
        return pii if pii in dict(PII_CHOICES) else "keep"

    def row(self) -> dict:
        """The row as posted, for re-rendering; a field that failed validation is empty, except the steps: when
        one is wrong every step is kept as entered, with its problems in `step_errors` (one list per step)."""
        data = getattr(self, "cleaned_data", {})
        target = data.get("target") or ""
        transform, step_errors = data.get("transform"), []
        entered = getattr(self, "entered_steps", [])
        if "transform" not in data and entered:
            transform, step_errors = [step for step, _ in entered], [problems for _, problems in entered]
        return {
            "source_col": data.get("source_col"),
            "canonical_table": target.split(".", 1)[0] if target else None,
            "canonical_col": target.split(".", 1)[1] if target else None,
            "transform": transform,
            "step_errors": step_errors,
            "confidence": data.get("confidence"),
            "reason": data.get("reason", ""),
            "pii_choice": data.get("pii", "keep"),
        }


class ReviewRowFormSet(forms.BaseFormSet):
    """The review table's rows; the count comes from the page's `rows` field, not a management form."""

    def total_form_count(self) -> int:
        if not self.is_bound:
            return len(self.initial or [])
        return max(0, min(int_or_none(self.data.get("rows")) or 0, MAX_ROWS))

    @cached_property
    def management_form(self) -> forms.Form:
        count = self.total_form_count()
        data = {TOTAL_FORM_COUNT: count, INITIAL_FORM_COUNT: 0, MIN_NUM_FORM_COUNT: 0, MAX_NUM_FORM_COUNT: MAX_ROWS}
        form = forms.formsets.ManagementForm({f"{self.prefix}-{k}": v for k, v in data.items()}, prefix=self.prefix)
        form.full_clean()
        return form

    def add_prefix(self, index) -> str:
        return str(index)


ReviewRows = forms.formset_factory(ReviewRowForm, formset=ReviewRowFormSet, extra=0, max_num=MAX_ROWS)


GRAIN_CHOICES = [(t.name, f"{t.label} ({t.name})") for t in TABLES]


class ReviewOptionsForm(forms.Form):
    """The mapping's options under the review table."""

    on_missing_reference = forms.CharField(required=False)
    all_or_nothing = forms.BooleanField(required=False)
    ragged_rows = forms.CharField(required=False)
    # The table whose rows the file's rows are ("" = automatic: the last table the mapping fills).
    grain = forms.ChoiceField(
        required=False,
        choices=[("", "Automatic")] + GRAIN_CHOICES,
        error_messages={"invalid_choice": "Each row of the file is: %(value)s is not a canonical table."},
    )

    def clean_on_missing_reference(self) -> str:
        value = self.data.get("on_missing_reference", "placeholder")
        if value not in ON_MISSING_REFERENCE:
            raise forms.ValidationError("on missing reference must be placeholder or reject.")
        return value

    def options(self) -> dict:
        options = {
            "on_missing_reference": self.data.get("on_missing_reference", "placeholder"),
            "all_or_nothing": self.cleaned_data.get("all_or_nothing", False),
        }
        # Rows with more fields than the header: rejected unless the user asks for the repair.
        if self.cleaned_data.get("ragged_rows") == "repair":
            options["ragged_rows"] = "repair"
        if self.cleaned_data.get("grain"):
            options["grain"] = self.cleaned_data["grain"]
        # Rows left out (a statement's balance lines), as the page offers them: kept while the box is ticked.
        getlist = getattr(self.data, "getlist", None)
        values = getlist("skip_rows_value") if getlist else []
        if self.data.get("skip_rows_on") and self.data.get("skip_rows_column") and values:
            options["skip_rows"] = {
                "column": self.data["skip_rows_column"],
                "values": values,
                "reason": self.data.get("skip_rows_reason", ""),
            }
        return options


class MappingReviewForm:
    """The whole review POST: the row formset and the options form, read into what `mapping_save` takes."""

    def __init__(self, data):
        self.rows = ReviewRows(data)
        self.options_form = ReviewOptionsForm(data)
        self.grain_errors: list[str] = []  # shown beside the grain select too

    def read(self) -> tuple[list[dict], dict, list[str], list[dict]]:
        """(fields for mapping_save, options, error messages, rows as posted)."""
        self.rows.is_valid()
        self.options_form.is_valid()
        fields: list[dict] = []
        errors: list[str] = []
        posted: list[dict] = []
        drop: list[str] = []
        for form in self.rows:
            errors += [f"{form.label}: {message}" for messages in form.errors.values() for message in messages]
            row = form.row()
            posted.append(row)
            if row["pii_choice"] == "drop" and row["source_col"]:
                drop.append(row["source_col"])
                continue
            if not row["canonical_table"]:
                continue
            steps = list(row["transform"] or [])
            if row["pii_choice"] == "hash":
                steps.append({"op": "hash"})
            fields.append(
                {
                    **{k: row[k] for k in ("source_col", "canonical_table", "canonical_col", "reason")},
                    "transform": steps or None,
                    "confidence": row["confidence"],
                }
            )
        options = self.options_form.options()
        errors += [message for messages in self.options_form.errors.values() for message in messages]
        if drop:
            options["drop_columns"] = sorted(set(drop))
        self.grain_errors = list(self.options_form.errors.get("grain", []))
        grain = options.get("grain")
        filled = {f["canonical_table"] for f in fields if attribute_key(f["canonical_col"]) is None}
        if grain and grain not in filled:
            label = TABLES_BY_NAME[grain].label.lower()
            self.grain_errors.append(
                f"Each row of the file is: the mapping fills no column of {label} ({grain}); "
                "map one, or choose Automatic or a table it fills."
            )
            errors.append(self.grain_errors[-1])
        return fields, options, errors, posted


class SourceReadForm(forms.Form):
    """How an upload is read: which sheet of a workbook, which row holds the header (1 = the first)."""

    sheet = forms.ChoiceField(required=False)
    header_row = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def __init__(self, data=None, *, source):
        super().__init__(data)
        self.source = source
        sheets = [s["name"] for s in source.dialect.get("sheets") or []]
        self.fields["sheet"].choices = [("", "")] + [(name, name) for name in sheets]

    def choices(self) -> dict:
        """Keyword arguments for `data_source_read_as`: another sheet has its header found afresh, unless
        the user gave a row too."""
        sheet = self.cleaned_data.get("sheet") or None
        row = self.cleaned_data.get("header_row")
        current = self.source.dialect.get("header_row", 0) + 1
        changed_sheet = sheet is not None and sheet != self.source.dialect.get("sheet")
        header_row = None if row is None or (changed_sheet and row == current) else row - 1
        return {"sheet": sheet, "header_row": header_row}


class DateOrderForm(forms.Form):
    """How to read dates whose day and month no value of the file decides (shown only for such dates)."""

    date_order = forms.ChoiceField(
        choices=[("dmy", "day first: 03/01/2024 is 3 January"), ("mdy", "month first: 03/01/2024 is 1 March")],
        label="Day and month",
    )
