"""A grouping is what a person sorts rows by (issue 18, after curator12 and curator13's fresh batches): a bank's
"Type" column of ACH_CREDIT / CARD_PAYMENT is how its system names the kinds of movement, not a spending
category; a plural header ("Categories") names the same thing as its singular; and a bare "type" beside a column
named "Category" is not the category."""

from __future__ import annotations

from tests.mappings.helpers import propose_by_column

CONFIDENT = 0.7


def _confident(by_col, column) -> set[str]:
    return {
        f"{p['canonical_table']}.{p['canonical_col']}"
        for p in by_col[column]
        if p["canonical_table"] and p["confidence"] >= CONFIDENT
    }


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


def _card_statement(tmp_path, header: str, kinds: list[str]):
    """A card statement of 60 movements whose first column, `header`, cycles through `kinds`."""
    rows = "".join(
        f"{kinds[i % len(kinds)]},2024-03-{1 + i % 28:02d},Shop {i % 9},{-12.5 - i:.2f},EUR\n" for i in range(60)
    )
    path = tmp_path / "card.csv"
    path.write_text(f"{header},Date,Description,Amount,Currency\n" + rows)
    return propose_by_column(path)[2]


def test_upper_case_movement_kinds_of_a_bank_statement_are_no_confident_spending_category(tmp_path):
    by_col = _card_statement(tmp_path, "Type", ["CARD_PAYMENT", "CARD_PAYMENT", "TRANSFER", "TOPUP", "ATM"])
    assert "canonical_expenses.category" not in _confident(by_col, "Type")


def test_spending_categories_a_person_named_stay_a_confident_category(tmp_path):
    # The same statement with its categories written as people write them: the grouping it is.
    by_col = _card_statement(tmp_path, "Category", ["Groceries", "Restaurants", "Transport", "Utilities"])
    assert _confident(by_col, "Category") == {"canonical_expenses.category"}


def test_a_products_category_is_the_column_named_categories_not_the_bare_type_beside_it(tmp_path):
    # A shop's catalogue export: Type says what kind of record a row is (simple / variable / variation).
    types = ["simple", "variable", "variation", "variation", "simple"]
    groups = ["Clothing > Tshirts", "Clothing > Hoodies", "Music", "Clothing > Accessories"]
    rows = "".join(
        f"{100 + i},woo-{i:03d},Product {i},{types[i % 5]},{groups[i % 4]},{10 + i % 7}.00\n" for i in range(30)
    )
    path = tmp_path / "products.csv"
    path.write_text("ID,SKU,Name,Type,Categories,Regular price\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Categories") == {"canonical_products.category"}
    assert "canonical_products.category" not in _targets(by_col, "Type")


def _catalogue(tmp_path, sale_every: int):
    """A shop's catalogue of 40 products: every product has a regular price; one in `sale_every` is on sale."""
    rows = "".join(
        f"{200 + i},Product {i},{'' if i % sale_every else f'{8 + i % 5}.50'},{10 + i % 7}.00\n" for i in range(40)
    )
    path = tmp_path / "catalogue.csv"
    path.write_text("ID,Name,Sale price,Regular price\n" + rows)
    return propose_by_column(path)[2]


def test_the_price_every_product_has_is_the_price_not_the_sale_price_a_few_have(tmp_path):
    # "Sale price" names the price more plainly, but it is blank on 3 rows of 4: a product's price is the full column.
    by_col = _catalogue(tmp_path, sale_every=4)
    assert _targets(by_col, "Regular price") == {"canonical_products.price"}
    assert "canonical_products.price" not in _targets(by_col, "Sale price")


def test_a_sale_price_given_on_most_rows_keeps_its_reading(tmp_path):
    # Filled on every row, the header that names the price plainly is the price.
    by_col = _catalogue(tmp_path, sale_every=1)
    assert _targets(by_col, "Sale price") == {"canonical_products.price"}
