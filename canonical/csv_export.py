"""The one place CSV exports make a cell safe to open in a spreadsheet (formula / CSV injection).

Every CSV download (a widget's data, an execution's rejected rows) writes each cell through
`csv_safe_cell`. The rule: text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
prefixed with a single quote, so Excel, LibreOffice and Google Sheets show it as text instead of running
it as a formula. Numbers (int, float, Decimal) are written as they are, negative ones included: a typed
value cannot carry a formula. Text that only looks like a number ("-5" read from a file) is text and is
quoted like any other text. None is an empty cell. A row's attributes (a dict, from the `attributes` jsonb
column) or any other JSON value is written as its JSON text, then checked like text.
"""

from __future__ import annotations

import json
from decimal import Decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
