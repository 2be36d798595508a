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
