"""Header text as the proposer compares it: lower-case ASCII words, abbreviations expanded."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

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
        for part in split_glued(word):
            expanded.extend(vocabulary().abbreviations.get(part, part).split())
    # A currency code is the column's unit, like "(EUR)": "Net_Billed_INR" is a net billed amount.
    kept = [w for w in expanded if w not in vocabulary().currency_codes]
    return " ".join(kept if kept else expanded)


def content_words(phrase: str) -> list[str]:
    return [w for w in phrase.split() if w not in _STOPWORDS]


_INFLECTIONS = ("", "s", "es", "d", "ed", "ing")
_KEY_ENDS = frozenset({"id", "no", "nr"})
MIN_GLUED = 7  # shorter words are not split (a word the vocabulary lacks is more likely than two glued)


@cache
def _known_words() -> frozenset[str]:
    """Every word of the vocabulary's phrases (synonyms, entity words, noise), three letters or more."""
    v = vocabulary()
    phrases = [p for ps in v.column_synonyms.values() for p in ps]
    phrases += [p for ps in v.table_column_synonyms.values() for p in ps]
    phrases += [w for ws in v.entity_words.values() for w in ws]
    phrases += [*v.noise_headers, *v.noise_words, *v.abbreviations.values(), *v.address_qualifiers, *v.plan_words]
    return frozenset(w for p in phrases for w in p.split() if len(w) >= 3 and w.isalpha())


def _piece(text: str, last: bool) -> bool:
    known = _known_words()
    if last and text in _KEY_ENDS:
        return True
    return any(
        text.endswith(end) and len(text) - len(end) >= 3 and text[: len(text) - len(end)] in known
        for end in _INFLECTIONS
    )


def split_glued(word: str) -> list[str]:
    """Words an export glued together ("QUANTITYORDERED", "productline", "addressline1") split into the
    vocabulary's words, when the whole is no word the vocabulary knows and every piece is one (an
    inflection allowed: "ordered"); else the word as it is. The fewest pieces win (at most four)."""
    digits = re.match(r"^([a-z]+?)(\d+)$", word)
    if digits:
        parts = split_glued(digits.group(1))
        return [*parts, digits.group(2)] if len(parts) > 1 else [word]
    if len(word) < MIN_GLUED or not word.isalpha() or word in _known_words() or word in vocabulary().abbreviations:
        return [word]
    best: dict[int, list[str]] = {0: []}
    for end in range(3, len(word) + 1):
        options = [
            best[start] + [word[start:end]]
            for start in range(0, end - 1)
            if start in best and len(best[start]) < 4 and _piece(word[start:end], end == len(word))
        ]
        if options:
            best[end] = min(options, key=len)
    return best.get(len(word)) or [word]
