"""Identifiers with a published shape or check digit: validated where they are entered, once."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

NPI_PREFIX = "80840"  # the health industry prefix the NPI check digit is computed with (CMS)


def luhn_check_digit(digits: str) -> int:
    """The Luhn check digit to append to ``digits``."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: the check digit will stand to its right
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return (10 - total % 10) % 10


def validate_npi(value: str) -> None:
    """A US National Provider Identifier: ten digits, the last a Luhn check digit over "80840" and the nine."""
    if not re.fullmatch(r"[0-9]{10}", value):
        raise ValidationError("An NPI is ten digits.")
    if luhn_check_digit(NPI_PREFIX + value[:9]) != int(value[9]):
        raise ValidationError(f"{value} is not a valid NPI: its check digit does not match.")


def validate_ein(value: str) -> None:
    """A US Employer Identification Number as written on claims: NN-NNNNNNN."""
    if not re.fullmatch(r"[0-9]{2}-[0-9]{7}", value):
        raise ValidationError("An EIN is written NN-NNNNNNN, e.g. 12-3456789.")


# CPT: five digits, or four and F (category II) or T (category III). HCPCS level II: a letter A-V and four digits.
BILLING_CODE = re.compile(r"[0-9]{5}|[0-9]{4}[FT]|[A-V][0-9]{4}")
MODIFIERS = re.compile(r"[0-9A-Z]{2}(?:[ ,][0-9A-Z]{2}){0,3}")
# ICD-10-CM: a letter, two characters (a digit, then a digit or letter), then up to four after a dot.
ICD10 = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?")


def validate_billing_code(value: str) -> None:
    """A CPT or HCPCS level II code (96365, 0591T, J3490)."""
    if not BILLING_CODE.fullmatch(value):
        raise ValidationError(f"{value!r} is not a CPT or HCPCS code (five digits such as 96365, or J3490).")


def validate_modifiers(value: str) -> None:
    """One to four two-character CPT/HCPCS modifiers (25, or 25 59)."""
    if not MODIFIERS.fullmatch(value):
        raise ValidationError("Modifiers are two letters or digits each, e.g. 25 or 25 59.")


def validate_icd10(value: str) -> None:
    """An ICD-10-CM diagnosis code with its dot (F43.10, F33.2)."""
    if not ICD10.fullmatch(value):
        raise ValidationError(f"{value!r} is not an ICD-10 code (a letter, two characters, a dot: F43.10).")


def validate_number_prefix(value: str) -> None:
    """An invoice or credit note number prefix: capital letters, digits and dashes, starting with a letter."""
    if not re.fullmatch(r"[A-Z][A-Z0-9-]{0,11}", value):
        raise ValidationError("Use capital letters, digits and dashes (up to 12), starting with a letter: INV-BOS.")
