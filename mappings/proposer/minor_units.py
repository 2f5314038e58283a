"""Money written in minor units (cents), divided only on the file's own evidence (issue 18, money18).

1000 may be $1,000 or 1000 cents: the values alone cannot say. What can: the same money written in units beside it
(m = 100 × d on every row), or a total in units that a quantity and the column make only once divided by 100
(`profiling.evidence.minor_units`), or rows already loaded that give the same money in units
(`selectors.prices_in_minor_units`). With such evidence, a money target's whole-number column gets a divide by 100
step; without, it is never divided.
"""

from __future__ import annotations

from canonical.schema import TABLES_BY_NAME

DIVIDE = {"op": "divide", "value": 100}


def _money(p) -> bool:
    if not p.target or p.target.column.startswith("attributes."):
        return False
    return TABLES_BY_NAME[p.target.table].column(p.target.column).type == "money"


def divide_minor_units(proposals: list, found: dict[str, str]) -> None:
    """`found`: {column: why it is in minor units}. Each money proposal of such a column is divided by 100 (in
    place); a proposal that divides already (a learned mapping) is left as it is."""
    for p in proposals:
        why = found.get(p.source_col or "")
        if not why or not _money(p) or any(s.get("op") == "divide" for s in p.transform or []):
            continue
        p.transform = [*(p.transform or []), dict(DIVIDE)]
        p.reason = f"{p.reason}; {why}: money in cents, divided by 100"


def file_evidence(grain: dict) -> dict[str, str]:
    """{column: why} from the profile's arithmetic (`grain["minor_units"]`)."""
    found = {}
    for item in (grain or {}).get("minor_units") or []:
        if "by" in item:
            why = f"'{item['major']}' = '{item['by']}' × '{item['column']}' / 100 on every row"
        else:
            why = f"'{item['column']}' = 100 × '{item['major']}' on every row"
        found[item["column"]] = why
    return found


def divided(proposals: list[dict], found: dict[str, str]) -> list[dict]:
    """The contract's proposal dicts, each money proposal of a column in `found` divided by 100 (as
    `divide_minor_units` does for the proposer's own)."""
    out = []
    for p in proposals:
        why = found.get(p.get("source_col") or "")
        table, col = p.get("canonical_table"), p.get("canonical_col") or ""
        money = table and not col.startswith("attributes.") and TABLES_BY_NAME[table].column(col).type == "money"
        if why and money and not any(s.get("op") == "divide" for s in p.get("transform") or []):
            p = {**p, "transform": [*(p.get("transform") or []), dict(DIVIDE)], "reason": f"{p['reason']}; {why}"}
            p["reason"] += ": money in cents, divided by 100"
        out.append(p)
    return out


def with_prices_in_units(grain: dict) -> dict:
    """The grain with each total a quantity and a price in cents make once divided by 100 (`minor_units` "by")
    among the arithmetic's products: the line's total, quantity and price read as from a price in units (the
    price's divide step comes with its proposal)."""
    scaled = [[m["major"], m["by"], m["column"]] for m in (grain or {}).get("minor_units") or [] if "by" in m]
    if not scaled:
        return grain
    arithmetic = (grain or {}).get("arithmetic") or {}
    products = [*(arithmetic.get("products") or []), *scaled]
    return {**grain, "arithmetic": {**arithmetic, "products": products}}
