"""Arrow record batches → PostgreSQL's binary COPY format (`COPY … FROM STDIN (FORMAT binary)`).

A CSV COPY makes PostgreSQL tokenize every line and parse every value from text (numeric_in, date_in, …);
in the binary format each value arrives in its type's wire form and the server only copies it, so the
direct load's COPY is faster (bench/README.md, "Ingest").

pgpq (pinned in requirements.txt) encodes Arrow's integers, booleans, floats, dates and strings. It has no
encoder for decimals, so `numeric` values are written here, vectorized with numpy, in the form
numeric_recv reads: ndigits, weight, sign, dscale, then base-10000 digits, each a big-endian int16. The
server applies the column's typmod as for text input (rounding, "numeric field overflow").

Binary COPY requires each value in exactly its column's type (an int8 sent to an int4 column is an error),
so batches are cast to the types the table declares (`column_types`). `jsonb` is JSON text behind a version
byte. A column whose pair of types has no encoder here (timestamps, json, …) makes `binary_schema` return
None, and the caller copies as CSV.
"""

from __future__ import annotations

import numpy as np
import pgpq
import pyarrow as pa
import pyarrow.compute as pc

from mappings.engine.sql_files import sql_file

# PostgreSQL type (pg_type.typname) → the Arrow type whose pgpq encoding is that type's wire form.
_ARROW_FOR = {
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
}
_NUMERIC_SOURCES = (pa.types.is_decimal128, pa.types.is_integer)
_JSONB_VERSION = pa.scalar(b"\x01", pa.binary())
_EMPTY = pa.scalar(b"", pa.binary())


def column_types(cursor, table: str, columns: list[str]) -> list[str]:
    """pg_type.typname of each of `table`'s `columns`, in their order."""
    cursor.execute(sql_file("column_types.sql"), [table])
    types = dict(cursor.fetchall())
    return [types[name] for name in columns]


def binary_schema(source: pa.Schema, pg_types: list[str]) -> pa.Schema | None:
    """The schema `binary_batch` turns batches of `source` into for columns of `pg_types`, or None when a
    column cannot go in the binary format (the caller then copies as CSV)."""
    fields = []
    for field, pg_type in zip(source, pg_types, strict=True):
        if pg_type == "jsonb":  # JSON text: the wire form is a version byte (1), then the text
            if not _castable(field.type, pa.string()):
                return None
            fields.append(pa.field(field.name, pa.binary()))
            continue
        if pg_type == "numeric":
            if not any(check(field.type) for check in _NUMERIC_SOURCES):
                return None
            if pa.types.is_decimal128(field.type) and field.type.precision > 18:
                return None  # 64-bit unscaled values only (canonical money is numeric(14,2))
            fields.append(pa.field(field.name, pa.binary()))
            continue
        target = _ARROW_FOR.get(pg_type)
        if target is None or not _castable(field.type, target):
            return None
        fields.append(pa.field(field.name, target))
    return pa.schema(fields)


def _castable(source: pa.DataType, target: pa.DataType) -> bool:
    if source == target:
        return True
    if pa.types.is_integer(target):
        return pa.types.is_integer(source)
    if pa.types.is_floating(target):
        return pa.types.is_floating(source) or pa.types.is_integer(source)
    if pa.types.is_string(target):
        return pa.types.is_string(source) or pa.types.is_large_string(source) or pa.types.is_string_view(source)
    return False


def binary_batch(batch: pa.RecordBatch, schema: pa.Schema, pg_types: list[str]) -> pa.RecordBatch:
    """`batch` with each column cast to `schema` (from `binary_schema`); numeric columns encoded."""
    columns = []
    for column, field, pg_type in zip(batch.columns, schema, pg_types, strict=True):
        if pg_type == "jsonb":
            text = column.cast(pa.string()).cast(pa.binary())
            columns.append(pc.binary_join_element_wise(_JSONB_VERSION, text, _EMPTY))
            continue
        if pg_type == "numeric":
            if pa.types.is_integer(column.type):
                column = column.cast(pa.decimal128(18, 0))  # safe cast: raises beyond 18 digits
            columns.append(numeric_wire(column))
        else:
            columns.append(column if column.type == field.type else column.cast(field.type))  # safe: checked
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def numeric_wire(array: pa.Array) -> pa.Array:
    """A decimal128 array (precision ≤ 18) as numeric_recv's input, one binary value per element.

    Every value gets the same layout: 5 integer digits of base 10000 (weight 4; room for any 64-bit value)
    then ceil(scale / 4) fraction digits, with dscale = the array's scale. numeric_recv accepts leading and
    trailing zero digits and strips them when it stores the value.
    """
    scale, n = array.type.scale, len(array)
    words = np.frombuffer(array.buffers()[1], dtype="<i8")[2 * array.offset : 2 * (array.offset + n)]
    low, high = words[0::2], words[1::2]
    if not np.array_equal(high, low >> 63):
        raise OverflowError("a decimal value does not fit in 64 bits")
    negative = low < 0
    magnitude = np.abs(low).astype(np.uint64)
    fraction_digits = -(-scale // 4)  # base-10000 digits after the point
    integer, fraction = np.divmod(magnitude, np.uint64(10**scale))
    fraction = fraction * np.uint64(10 ** (4 * fraction_digits - scale))  # left-aligned in its digits
    integer_digits = 5
    ndigits = integer_digits + fraction_digits
    out = np.empty((n, 4 + ndigits), dtype=">u2")
    out[:, 0] = ndigits
    out[:, 1] = integer_digits - 1  # weight: the first digit's power of 10000
    out[:, 2] = np.where(negative, 0x4000, 0x0000)  # NUMERIC_NEG / NUMERIC_POS
    out[:, 3] = scale
    base = np.uint64(10000)
    for k in range(integer_digits):
        out[:, 4 + integer_digits - 1 - k] = (integer // np.uint64(10 ** (4 * k))) % base
    for k in range(fraction_digits):
        out[:, 4 + ndigits - 1 - k] = (fraction // np.uint64(10 ** (4 * k))) % base
    width = out.shape[1] * 2
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    validity = pc.is_valid(array).buffers()[1] if array.null_count else None
    return pa.Array.from_buffers(
        pa.binary(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(out.tobytes())], null_count=array.null_count
    )


def encoder(schema: pa.Schema) -> pgpq.ArrowToPostgresBinaryEncoder:
    return pgpq.ArrowToPostgresBinaryEncoder(schema)
