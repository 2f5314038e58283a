from __future__ import annotations

import pytest

from mappings.profiling.pii import detect_pii, is_card_number, is_iban, is_national_id, is_phone


@pytest.mark.parametrize("value", ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"])
def test_valid_card_numbers_pass_luhn(value):
    assert is_card_number(value)


@pytest.mark.parametrize("value", ["4111 1111 1111 1112", "1234567890123", "2024-01-05"])
def test_invalid_card_numbers_are_not_cards(value):
    assert not is_card_number(value)


def test_iban_checksum_is_validated():
    assert is_iban("DE89 3704 0044 0532 0130 00")
    assert is_iban("GB82WEST12345698765432")
    assert not is_iban("DE89 3704 0044 0532 0130 01")


def test_national_identifiers_are_validated():
    assert is_national_id("536-90-4399")  # US SSN, written as SSNs are
    assert is_national_id("12345678Z")  # Spanish DNI with its check letter
    assert not is_national_id("12345678A")
    assert not is_national_id("536904399")  # a bare 9-digit number may be an order number


def test_phones_in_national_and_international_formats():
    assert is_phone("(206) 555-9857")
    assert is_phone("+49 30 1234567")
    assert not is_phone("12")
    assert not is_phone("ann@example.com")


def test_a_column_of_emails_is_flagged_with_its_share():
    flag = detect_pii(header="Contact", values=["a@x.com", "b@y.org", "c@z.de", "not an email"])
    assert flag is None  # 75% is below the bar: not every text column with one address is PII
    flag = detect_pii(header="Contact", values=["a@x.com", "b@y.org", "c@z.de", "d@w.fr", "e@v.io"])
    assert flag == {"kind": "email", "share": 1.0, "source": "values"}


def test_ibans_and_cards_are_flagged_by_their_values():
    assert detect_pii(header="Konto", values=["DE89370400440532013000", "GB82WEST12345698765432"])["kind"] == "iban"
    assert detect_pii(header="pan", values=["4111111111111111", "5500000000000004"])["kind"] == "card"


def test_headers_flag_birth_dates_and_names_even_without_proof_in_values():
    assert detect_pii(header="birthDate", values=["1948-12-08"], normalized_header="birth date")["kind"] == "birth_date"
    assert detect_pii(header="lastName", values=["Davolio"], normalized_header="last name")["kind"] == "person_name"


def test_plain_business_columns_are_not_pii():
    assert detect_pii(header="Amount", values=["12.50", "3.99"], normalized_header="amount") is None
    assert detect_pii(header="Order", values=["100000001", "100000002", "100000003"], normalized_header="order") is None
