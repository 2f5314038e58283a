"""Transforms as data (docs/TRANSFORMS.md): validated against an allow-list, compiled to DuckDB SQL.

A transform is a list of steps; each step is checked by a pydantic model (unknown ops and unknown
parameters are refused) and column names inside steps must be headers of the file. Compilation emits
SQL built only from our own fixed fragments, quoted identifiers of known headers and named
parameters (`$p1`, `$p2`, ...): no text from a mapping ever becomes SQL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from mappings.engine.sql_files import sql_statements
from mappings.intake.duck import quote_ident

TRUE_VALUES = ["yes", "y", "true", "t", "1", "ja", "j", "oui", "sí", "si", "x", "on"]
FALSE_VALUES = ["no", "n", "false", "f", "0", "nein", "non", "off", ""]
# Tried in order by parse_date "auto" and for date columns without an explicit parse_date.
AUTO_DATE_FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%y",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%Y/%m/%d",
    "%d-%m-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%Y%m%d",
]
CAST_TYPES = ("text", "integer", "number", "money", "date", "timestamp", "boolean")


class TransformInvalid(ValueError):
    """A transform that cannot run; the message says which step and why."""


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trim(_Step):
    op: Literal["trim"]


class Upper(_Step):
    op: Literal["upper"]


class Lower(_Step):
    op: Literal["lower"]


class Title(_Step):
    op: Literal["title"]


class ParseDate(_Step):
    op: Literal["parse_date"]
    format: str = Field(default="auto", min_length=1, max_length=64)


class ParseNumber(_Step):
    op: Literal["parse_number"]
    locale: Literal["en", "de", "auto"] = "auto"


class ParseBool(_Step):
    op: Literal["parse_bool"]
    true_values: list[str] | None = None
    false_values: list[str] | None = None


class Cast(_Step):
    op: Literal["cast"]
    type: Literal["text", "integer", "number", "money", "date", "timestamp", "boolean"]


class Concat(_Step):
    op: Literal["concat"]
    columns: list[str] = Field(min_length=1)
    separator: str = " "


class Coalesce(_Step):
    op: Literal["coalesce"]
    columns: list[str] = Field(min_length=1)


class MapValues(_Step):
    op: Literal["map_values"]
    map: dict[str, Any]
    default: Any = None
    has_default: bool = False


class Constant(_Step):
    op: Literal["constant"]
    value: Any


class SplitPart(_Step):
    op: Literal["split_part"]
    separator: str = Field(min_length=1)
    index: int = Field(ge=1, le=1000)


class Hash(_Step):
    op: Literal["hash"]


class _Operands(_Step):
    """An arithmetic step over the value so far and its operands: columns of the file, then a constant."""

    columns: list[str] = Field(default_factory=list, max_length=20)
    value: Decimal | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _some_operand(self):
        if not self.columns and self.value is None:
            raise ValueError("give the columns or the value to operate with")
        return self


class Multiply(_Operands):
    op: Literal["multiply"]


class Divide(_Operands):
    op: Literal["divide"]


class Add(_Operands):
    op: Literal["add"]


class Subtract(_Operands):
    op: Literal["subtract"]


class Round(_Step):
    op: Literal["round"]
    places: int = Field(default=0, ge=0, le=6)


class Abs(_Step):
    op: Literal["abs"]


class Negate(_Step):
    """The value with its sign flipped; with `column` and `values`, only on the rows whose `column` (trimmed) is one
    of `values`: an unsigned amount beside a debit / credit marker (D / C) signed by it."""

    op: Literal["negate"]
    column: str | None = Field(default=None, min_length=1, max_length=500)
    values: list[str] | None = Field(default=None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _column_with_values(self):
        if (self.column is None) != (self.values is None):
            raise ValueError("give both the column and its values (or neither)")
        return self


class ProductPrice(_Step):
    """An order line's unit price taken from its product's price in canonical_products, when the lines file
    has no price of its own (resolved at load, after the product reference: engine/line_price.py)."""

    op: Literal["product_price"]


Step = Annotated[
    Trim
    | Upper
    | Lower
    | Title
    | ParseDate
    | ParseNumber
    | ParseBool
    | Cast
    | Concat
    | Coalesce
    | MapValues
    | Constant
    | SplitPart
    | Hash
    | Multiply
    | Divide
    | Add
    | Subtract
    | Round
    | Abs
    | Negate
    | ProductPrice,
    Field(discriminator="op"),
]
# The op names, in the order of the schema above: the one list the API, the engine and the page use.
ALLOWED_OPS: tuple[str, ...] = tuple(
    get_args(step.model_fields["op"].annotation)[0] for step in get_args(get_args(Step)[0])
)
_STEP = TypeAdapter(Step)
# Steps that produce a value without a source column.
COMPUTING_OPS = {"constant", "concat", "coalesce", "product_price"}
# The one place a product_price step may fill: an order line's unit price (it must be the column's only step).
PRODUCT_PRICE_TARGET = ("canonical_order_lines", "unit_price")


def transform_parse(transform: Any, *, columns: list[str] | None = None) -> list[_Step]:
    """Validate a transform (None or a list of step objects) and return its steps.

    Raises `TransformInvalid` naming the step (1-based) and the problem. When `columns` (the file's
    headers) is given, every column a step names must be one of them.
    """
    if transform is None:
        return []
    if not isinstance(transform, list):
        raise TransformInvalid("transform must be a list of steps or null")
    steps: list[_Step] = []
    for number, raw in enumerate(transform, start=1):
        if not isinstance(raw, dict):
            raise TransformInvalid(f"step {number}: must be an object with an 'op'")
        op = raw.get("op")
        if op not in ALLOWED_OPS:
            raise TransformInvalid(f"step {number}: unknown op {op!r}; allowed: {', '.join(ALLOWED_OPS)}")
        data = dict(raw)
        if op == "map_values":
            data["has_default"] = "default" in raw
        try:
            step = _STEP.validate_python(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'][1:]) or 'step'}: {err['msg']}" for err in exc.errors()
            )
            raise TransformInvalid(f"step {number} ({op}): {problems}") from None
        if columns is not None:
            named = [*(getattr(step, "columns", None) or []), *filter(None, [getattr(step, "column", None)])]
            for name in named:
                if name not in columns:
                    raise TransformInvalid(f"step {number} ({op}): unknown column {name!r}; not a header of the file")
        steps.append(step)
    return steps


@cache
def duckdb_macros() -> list[str]:
    """The helper macros (mappings/sql/duckdb_macros.sql), one statement each."""
    return sql_statements("duckdb_macros.sql")


def duckdb_install_macros(conn) -> None:
    for statement in duckdb_macros():
        conn.execute(statement)


@dataclass
class SqlParams:
    """Named parameters of one DuckDB statement: values never become SQL text.

    `problems`: (condition, reason) pairs the compiled steps found a row can fail on (a division by zero,
    a value that is not a number), in step order; the plan turns them into rejected-row reasons."""

    values: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.values) + 1}"
        self.values[name] = value
        return f"${name}"

    def used_by(self, sql_text: str) -> dict[str, Any]:
        """The parameters `sql_text` refers to (DuckDB refuses unused ones: a step's problem reasons are
        bound whether or not the statement reports them)."""
        used = set(re.findall(r"\$(p\d+)\b", sql_text))
        return {name: value for name, value in self.values.items() if name in used}


@dataclass(frozen=True)
class Expr:
    sql: str
    type: str  # text | date | timestamp | number | integer | boolean


def _text(expr: Expr) -> Expr:
    return expr if expr.type == "text" else Expr(f"CAST({expr.sql} AS VARCHAR)", "text")


def _cell(column: str) -> str:
    return f"ll_blank_null({quote_ident(column)})"


def compile_steps(source_col: str | None, steps: list[_Step], params: SqlParams) -> Expr:
    """The DuckDB expression for a source column after its steps (before conversion to the target type)."""
    expr = Expr(_cell(source_col), "text") if source_col else Expr("CAST(NULL AS VARCHAR)", "text")
    for step in steps:
        expr = _compile_step(expr, step, params)
    return expr


def _compile_step(expr: Expr, step: _Step, params: SqlParams) -> Expr:  # noqa: C901 - one branch per op
    match step:
        case Trim():
            return Expr(f"nullif(trim({_text(expr).sql}), '')", "text")
        case Upper():
            return Expr(f"upper({_text(expr).sql})", "text")
        case Lower():
            return Expr(f"lower({_text(expr).sql})", "text")
        case Title():
            return Expr(f"ll_title({_text(expr).sql})", "text")
        case ParseDate(format=fmt):
            if expr.type in ("date", "timestamp"):
                return expr
            formats = AUTO_DATE_FORMATS if fmt == "auto" else [fmt]
            return Expr(f"try_strptime(trim({_text(expr).sql}), {params.bind(formats)})", "timestamp")
        case ParseNumber(locale=locale):
            if expr.type in ("number", "integer"):
                return expr
            return Expr(f"ll_num_{locale}({_text(expr).sql})", "number")
        case ParseBool(true_values=tv, false_values=fv):
            if expr.type == "boolean":
                return expr
            t = [v.lower().strip() for v in (tv or TRUE_VALUES)]
            f = [v.lower().strip() for v in (fv or FALSE_VALUES)]
            return _parse_bool(_text(expr).sql, t, f, params)
        case Cast(type=target):
            return cast_to(expr, target, params)
        case Concat(columns=cols, separator=sep):
            parts = [_text(expr).sql] + [_cell(c) for c in cols]
            return Expr(f"nullif(concat_ws({params.bind(sep)}, {', '.join(parts)}), '')", "text")
        case Coalesce(columns=cols):
            parts = [_text(expr).sql] + [_cell(c) for c in cols]
            return Expr(f"coalesce({', '.join(parts)})", "text")
        case MapValues(map=mapping, default=default, has_default=has_default):
            if not mapping:
                return expr
            keys = list(mapping)
            values = [None if mapping[k] is None else str(mapping[k]) for k in keys]
            lookup = f"{params.bind(values)}[list_position({params.bind(keys)}, {_text(expr).sql})]"
            fallback = params.bind(None if default is None else str(default)) if has_default else _text(expr).sql
            found = f"list_position({params.bind(keys)}, {_text(expr).sql}) IS NOT NULL"
            return Expr(f"(CASE WHEN {found} THEN {lookup} ELSE {fallback} END)", "text")
        case Constant(value=value):
            return Expr(f"CAST({params.bind(None if value is None else str(value))} AS VARCHAR)", "text")
        case SplitPart(separator=sep, index=index):
            return Expr(f"nullif(split_part({_text(expr).sql}, {params.bind(sep)}, {params.bind(index)}), '')", "text")
        case Hash():
            return Expr(f"sha256({_text(expr).sql})", "text")
        case Multiply() | Divide() | Add() | Subtract():
            return _arithmetic(expr, step, params)
        case Round(places=places):
            value = _number(expr, step.op, params)
            return Expr(f"CAST(round({value}, {params.bind(places)}) AS DECIMAL(38, 6))", "number")
        case Abs():
            return Expr(f"abs({_number(expr, step.op, params)})", "number")
        case Negate(column=None):
            return Expr(f"(- {_number(expr, step.op, params)})", "number")
        case Negate(column=column, values=values):
            value = _number(expr, step.op, params)
            marked = f"list_contains({params.bind([v.strip() for v in values])}, trim({_cell(column)}))"
            return Expr(f"(CASE WHEN coalesce({marked}, false) THEN - {value} ELSE {value} END)", "number")
        case ProductPrice():
            # Not in the file: the load joins the product's price in (engine/line_price.py).
            return Expr("CAST(NULL AS DECIMAL(38, 6))", "number")
    raise TransformInvalid(f"unsupported step {step!r}")  # pragma: no cover - the allow-list prevents it


def _parse_bool(text: str, true_values: list[str], false_values: list[str], params: SqlParams) -> Expr:
    """True for a value among `true_values`, false among `false_values` (lower-cased, trimmed), else NULL."""
    values = params.bind([*true_values, *false_values])
    return Expr(f"ll_parse_bool({text}, {values}, {params.bind(len(true_values))})", "boolean")


# Beyond this magnitude a result is refused (NULL, so the row is rejected) rather than overflow DuckDB's decimals.
ARITHMETIC_LIMIT = 1e24


def _number(expr: Expr, op: str, params: SqlParams) -> str:
    """The value so far as a DECIMAL(38, 6); a text that is not a number is a problem of the row."""
    if expr.type in ("number", "integer"):
        return f"CAST({expr.sql} AS DECIMAL(38, 6))"
    text = _text(expr).sql
    params.problems.append((f"{text} IS NOT NULL AND ll_num_auto({text}) IS NULL", params.bind(f"{op}: not a number")))
    return f"ll_num_auto({text})"


def _operands(step: _Operands, params: SqlParams) -> list[str]:
    """The step's operands as DECIMAL(38, 6): each column's cell (read as parse_number auto), then the value."""
    operands = []
    for column in step.columns:
        cell = _cell(column)
        reason = params.bind(f"{step.op}: column {column!r} is not a number")
        params.problems.append((f"{cell} IS NOT NULL AND ll_num_auto({cell}) IS NULL", reason))
        operands.append(f"ll_num_auto({cell})")
    if step.value is not None:
        operands.append(f"CAST({params.bind(str(step.value))} AS DECIMAL(38, 6))")
    return operands


def _arithmetic(expr: Expr, step: _Operands, params: SqlParams) -> Expr:
    value = _number(expr, step.op, params)
    limit = None
    for operand in _operands(step, params):
        if isinstance(step, Divide):
            params.problems.append((f"{value} IS NOT NULL AND {operand} = 0", params.bind("divide: division by zero")))
            value = f"(CASE WHEN {operand} <> 0 THEN try_cast({value} / {operand} AS DECIMAL(38, 6)) END)"
            continue
        sign = {"multiply": "*", "add": "+", "subtract": "-"}[step.op]
        limit = limit or params.bind(ARITHMETIC_LIMIT)
        approx = f"(CAST({value} AS DOUBLE) {sign} CAST({operand} AS DOUBLE))"
        value = f"(CASE WHEN abs({approx}) < {limit} THEN CAST({value} {sign} {operand} AS DECIMAL(38, 6)) END)"
    return Expr(value, "number")


def cast_to(expr: Expr, target: str, params: SqlParams) -> Expr:
    """Convert an expression to a value type; a value that does not convert becomes NULL (then rejected)."""
    if target == expr.type or (target == "money" and expr.type == "number"):
        return Expr(expr.sql, "number" if target == "money" else target)
    src = expr.sql
    match target:
        case "text":
            return _text(expr)
        case "integer":
            if expr.type == "number":
                return Expr(f"(CASE WHEN {src} = trunc({src}) THEN CAST({src} AS BIGINT) END)", "integer")
            text = f"trim({_text(expr).sql})"
            # DuckDB would round "4.2" to 4; a strict cast refuses it.
            return Expr(
                f"(CASE WHEN regexp_full_match({text}, '[-+]?[0-9]+') THEN try_cast({text} AS BIGINT) END)", "integer"
            )
        case "number" | "money":
            if expr.type == "integer":
                return Expr(f"CAST({src} AS DECIMAL(38, 6))", "number")
            return Expr(f"try_cast(trim({_text(expr).sql}) AS DECIMAL(38, 6))", "number")
        case "date":
            if expr.type == "timestamp":
                return Expr(f"CAST({src} AS DATE)", "date")
            return Expr(
                f"CAST(try_strptime(trim({_text(expr).sql}), {params.bind(AUTO_DATE_FORMATS)}) AS DATE)", "date"
            )
        case "timestamp":
            if expr.type == "date":
                return Expr(f"CAST({src} AS TIMESTAMP)", "timestamp")
            return Expr(f"try_strptime(trim({_text(expr).sql}), {params.bind(AUTO_DATE_FORMATS)})", "timestamp")
        case "boolean":
            if expr.type in ("integer", "number"):
                return Expr(f"({src} <> 0)", "boolean")
            return _parse_bool(_text(expr).sql, TRUE_VALUES, FALSE_VALUES, params)
    raise TransformInvalid(f"cannot cast to {target!r}; allowed: {', '.join(CAST_TYPES)}")
