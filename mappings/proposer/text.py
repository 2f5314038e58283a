"""Header text as the proposer compares it: lower-case ASCII words, abbreviations expanded."""

from __future__ import annotations

import re
import unicodedata

from mappings.proposer.vocabulary import vocabulary

_CAMEL_1 = re.compile(r"([a-z0-9])([A-Z])")


_CAMEL_2 = re.compile(r"([A-Z]+)([A-Z][a-z])")


_PARENS = re.compile(r"[(\[{]([^)\]}]*)[)\]}]")


_STOPWORDS = frozenset({"of", "the", "de", "du", "la", "le", "del", "des", "d", "l", "y", "et", "und", "en", "a"})


def normalize_text(value: str) -> str:
    """Lower-case ASCII: 'Fälligkeit' → 'falligkeit', 'Straße' → 'strasse'."""
    value = value.replace("ß", "ss")
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()


def normalize_header(header: str) -> str:
    """'Order Date (UTC)' → 'order date'; 'custEmailAddr' → 'customer email address'; 'Rechnungs-Nr.' → ..."""

    text = _PARENS.sub(" ", header or "")
    text = text.replace("#", " number ").replace("&", " and ").replace("%", " percent ")
    text = _CAMEL_2.sub(r"\1 \2", _CAMEL_1.sub(r"\1 \2", text))
    text = normalize_text(text)
    words = re.split(r"[^a-z0-9]+", text)
    phrase = " ".join(w for w in words if w)
    phrase = re.sub(r"\be mail\b", "email", phrase)
    expanded: list[str] = []
    for word in phrase.split():
        expanded.extend(vocabulary().abbreviations.get(word, word).split())
    # A currency code is the column's unit, like "(EUR)": "Net_Billed_INR" is a net billed amount.
    kept = [w for w in expanded if w not in vocabulary().currency_codes]
    return " ".join(kept if kept else expanded)


def content_words(phrase: str) -> list[str]:
    return [w for w in phrase.split() if w not in _STOPWORDS]
