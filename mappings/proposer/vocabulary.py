"""What business exports call things: synonyms per canonical column, abbreviations, entity words, noise.

The words are data (mappings/proposer/data/*.toml), read once per process. The proposer normalizes a
header into lower-case ASCII words, expands abbreviations, and looks the phrase up here. Phrases are
written already normalized (lower case, no accents, words separated by one space). German, French and
Spanish business terms sit next to the English ones; German compounds are listed whole
("rechnungsdatum") because they do not split.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Vocabulary:
    abbreviations: dict[str, str]  # word seen in exports → the word it stands for
    entity_words: dict[str, tuple[str, ...]]  # canonical table → header words naming its entity
    column_synonyms: dict[str, tuple[str, ...]]  # canonical column → phrases, whatever the table
    table_column_synonyms: dict[str, tuple[str, ...]]  # "table.column" → phrases
    noise_words: frozenset[str]
    noise_headers: frozenset[str]
    address_qualifiers: frozenset[str]
    plan_words: frozenset[str]  # a date that is a plan or a limit, not an event
    currency_codes: frozenset[str]  # header words that are a money column's unit
    ledger: dict[str, frozenset[str]]  # debit_words, credit_words, account_words, debit_marks, credit_marks
    status_synonyms: dict[str, dict[str, str]]  # "table.column" → source value → canonical value


def _read(name: str) -> dict:
    with (DATA_DIR / name).open("rb") as fh:
        return tomllib.load(fh)


def _tuples(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in table.items()}


@cache
def vocabulary() -> Vocabulary:
    """The vocabulary, loaded from the data files on first use."""
    synonyms = _read("synonyms.toml")
    noise = _read("noise.toml")
    abbreviations = _read("abbreviations.toml")
    return Vocabulary(
        abbreviations=abbreviations["abbreviations"],
        entity_words=_tuples(_read("entities.toml")["entity_words"]),
        column_synonyms=_tuples(synonyms["column_synonyms"]),
        table_column_synonyms=_tuples(synonyms["table_column_synonyms"]),
        noise_words=frozenset(noise["noise_words"]),
        noise_headers=frozenset(noise["noise_headers"]),
        address_qualifiers=frozenset(noise["address_qualifiers"]),
        plan_words=frozenset(noise["plan_words"]),
        currency_codes=frozenset(abbreviations["units"]["currency_codes"]),
        ledger={k: frozenset(v) for k, v in noise["ledger"].items()},
        status_synonyms=_read("statuses.toml")["status_synonyms"],
    )
