"""Personal data detection at profile time, with validating libraries rather than loose patterns.

A column is flagged when most of its (distinct, sampled) values validate as one kind: e-mail addresses,
phone numbers (phonenumbers), payment card numbers (Luhn check and card lengths), IBANs (checksum) or
national identifiers (python-stdnum: US SSN, German tax id, French NIR, Spanish DNI/NIE, Dutch BSN,
Italian codice fiscale, UK NHS number). A few headers (birth date, SSN, ...) flag a column by name alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
from stdnum import iban, luhn
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ssn

PII_KINDS = ("email", "phone", "card", "iban", "national_id", "birth_date", "person_name", "address")

_EMAIL = re.compile(r"^[\w.%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PHONE_SHAPE = re.compile(r"^\+?[\d\s().\-/]{7,22}$")
_DATE_SHAPE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
_CARD_SHAPE = re.compile(r"^\d[\d -]{11,22}\d$")
_IBAN_SHAPE = re.compile(r"^[A-Za-z]{2}\d{2}[A-Za-z0-9 ]{10,36}$")
_NATIONAL_ID_VALIDATORS = (ssn, idnr, nir, dni, nie, bsn, codicefiscale, nhs)

# Regions tried for numbers written without a country prefix (the exports we see most).
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES")

# Headers that name personal data even when the values cannot prove it.
_HEADER_KINDS: dict[str, tuple[str, ...]] = {
    "birth_date": ("birth date", "birthdate", "date of birth", "dob", "geburtsdatum", "date de naissance"),
    "national_id": ("ssn", "social security", "national id", "tax id", "steuer id", "nir", "dni", "nino"),
    "person_name": ("first name", "last name", "contact name", "full name", "surname", "vorname", "nachname"),
    "address": ("address", "street", "strasse", "adresse", "direccion", "postal code", "zip"),
}


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value.strip()))


def is_phone(value: str) -> bool:
    value = value.strip()
    # Bare digit runs are ids or amounts, and 1948-12-08 is a date: phones are written with a + or separators.
    if not _PHONE_SHAPE.match(value) or value.isdigit() or _DATE_SHAPE.match(value):
        return False
    digits = sum(ch.isdigit() for ch in value)
    if digits < 7 or digits > 15:
        return False
    for region in (None,) if value.startswith("+") else _PHONE_REGIONS:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return True
    return False


def is_card_number(value: str) -> bool:
    value = value.strip()
    if not _CARD_SHAPE.match(value):
        return False
    digits = re.sub(r"[ -]", "", value)
    # Card numbers are 13-19 digits and start with a major network's prefix (Visa 4, MC 2/5, Amex 3, ...).
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn.is_valid(digits)


def is_iban(value: str) -> bool:
    value = value.strip()
    return bool(_IBAN_SHAPE.match(value)) and iban.is_valid(value)


def is_national_id(value: str) -> bool:
    value = value.strip()
    if not value or len(value) > 24 or value.isdigit() and len(value) < 9:
        return False
    # Plain 9-digit numbers pass the SSN rules by chance (order numbers do): SSNs count only when written
    # 123-45-6789. The other validators carry check digits that random numbers fail.
    validators = [v for v in _NATIONAL_ID_VALIDATORS if v is not ssn] if value.isdigit() else _NATIONAL_ID_VALIDATORS
    return any(validator.is_valid(value) for validator in validators)


_VALUE_CHECKS = (
    ("email", is_email),
    ("card", is_card_number),
    ("iban", is_iban),
    ("national_id", is_national_id),
    ("phone", is_phone),
)


def detect_pii(*, header: str, values: Iterable[str], normalized_header: str = "") -> dict | None:
    """The kind of personal data in a column, or None.

    `values` are distinct non-blank sample values. A kind is reported when at least 80% of them validate
    (60% for phones, whose formats vary most); `share` says how many did.
    """
    sample = [v for v in values if v and v.strip()][:300]
    if sample:
        for kind, check in _VALUE_CHECKS:
            # The first few values decide whether a kind is worth checking on all of them.
            head = sample[:20]
            if sum(1 for v in head if check(v)) < len(head) * 0.5:
                continue
            hits = sum(1 for v in sample if check(v))
            share = hits / len(sample)
            if share >= (0.6 if kind == "phone" else 0.8):
                return {"kind": kind, "share": round(share, 3), "source": "values"}
    phrase = normalized_header or header.lower()
    for kind, phrases in _HEADER_KINDS.items():
        if any(p == phrase or f" {p} " in f" {phrase} " for p in phrases):
            return {"kind": kind, "share": None, "source": "header"}
    return None
