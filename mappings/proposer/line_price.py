"""Lines priced by their product: when a lines file has a product and a quantity but no price and no line
total, an analyst takes each line's price from the product catalogue loaded before it.

Decided by values, never by header words: the share of the file's distinct product keys that are products
of canonical_products with a price (the whole column, `mappings.selectors.product_keys_priced`). As every
proposal (proposer/calibration.py), it reaches the auto-accept threshold only with two kinds of evidence:
the catalogue prices nearly every product of the file, and the file's quantity is a column whose values
were checked. One of them alone is shown for review; no priced catalogue at all is a refusal that says to
load the products file first.
"""

from __future__ import annotations

from dataclasses import dataclass

from mappings.proposer.calibration import CONTRADICTED, ONE_KIND

LINES = "canonical_order_lines"
MOST = 0.9  # of the file's product keys priced in the catalogue: the catalogue is these lines' price list
SOME = 0.5  # below this share, the catalogue is not these lines' price list
PRICE_STEP = [{"op": "product_price"}]


@dataclass(frozen=True)
class PricedKeys:
    """The file's product keys against the catalogue: `keys` distinct keys in `column`, `found` of them
    products of canonical_products, `priced` of those with a price; `catalogue`: products with a price."""

    column: str
    keys: int
    found: int
    priced: int
    catalogue: int

    @property
    def share(self) -> float:
        return self.priced / self.keys if self.keys else 0.0


def lines_without_price(proposals: list[dict]) -> dict | None:
    """The product reference proposal of a lines file that has a product column and a quantity but nothing
    for the line's price (no unit price, no line amount); None otherwise."""
    lines = {p["canonical_col"]: p for p in proposals if p.get("canonical_table") == LINES and p.get("canonical_col")}
    if "unit_price" in lines or "amount" in lines or "quantity" not in lines:
        return None
    product = lines.get("product_id")
    return product if product and product.get("source_col") else None


def product_price_proposal(*, proposals: list[dict], priced: PricedKeys, profile: dict) -> dict:
    """The proposal that each line's unit price is its product's price, with the confidence its evidence
    earns and the reasons a person would give."""
    lines = {p["canonical_col"]: p for p in proposals if p.get("canonical_table") == LINES and p.get("canonical_col")}
    quantity = lines["quantity"]
    confidence, reason = _judged(priced, quantity, proposals, profile)
    return {
        "source_col": None,
        "canonical_table": LINES,
        "canonical_col": "unit_price",
        "transform": PRICE_STEP,
        "confidence": confidence,
        "reason": reason,
    }


def _judged(priced: PricedKeys, quantity: dict, proposals: list[dict], profile: dict) -> tuple[float, str]:
    column = f"'{priced.column}'"
    if not priced.catalogue:
        return CONTRADICTED, (
            "the lines have no price or line total, and no product with a price is loaded yet: load the products "
            "file first, then this file (each line would take its product's price)"
        )
    counted = f"{priced.priced} of the {priced.keys} product keys in {column}"
    if priced.share < SOME:
        return CONTRADICTED, (
            f"the lines have no price or line total, but only {counted} are priced products of the catalogue "
            "(canonical_products): it is not these lines' price list"
        )
    share = f"{_percent(priced.share)} of their products ({counted})"
    reason = f"the lines have no price or line total; {share} are priced in the catalogue, so each line takes its "
    reason += "product's price (canonical_products.price when the file loads)"
    missing = priced.keys - priced.priced
    if missing:
        reason += f"; the lines of the {missing} other product key{'s' if missing > 1 else ''} will be rejected"
    doubts = []
    if priced.share < MOST:
        doubts.append(f"below {_percent(MOST)} of the products priced, the catalogue may not be these lines'")
    if not quantity.get("source_col") or (quantity.get("confidence") or 0) <= ONE_KIND:
        doubts.append("the quantity is not a column whose values were checked")
    money = _unplaced_decimals(proposals, profile)
    if money:
        doubts.append(f"'{money}' holds decimals nothing was proposed for: it may be the price")
    if doubts:
        return ONE_KIND, f"{reason}; only one kind of evidence: {'; '.join(doubts)}, a person confirms"
    # Two kinds agree: the catalogue prices the file's products, and the quantity column reads as quantities.
    confidence = round(min(0.9, 0.8 + (priced.share - MOST)), 2)
    return confidence, f"{reason}; '{quantity['source_col']}' is each line's quantity"


def _unplaced_decimals(proposals: list[dict], profile: dict) -> str | None:
    """A column of decimals the proposal leaves unmapped (a price it could not place), if any."""
    unmapped = {p["source_col"] for p in proposals if p.get("source_col") and not p.get("canonical_table")}
    return next(
        (c["name"] for c in profile.get("columns", []) if c["name"] in unmapped and c.get("type") == "decimal"),
        None,
    )


def _percent(share: float) -> str:
    return f"{int(share * 100)}%" if share < 1 else "100%"
