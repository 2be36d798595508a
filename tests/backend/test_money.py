"""The one rounding rule: ROUND_HALF_UP to the currency's minor unit, Decimal only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from backend.money import (
    CURRENCY_MINOR_UNITS,
    MAX_MINOR_UNITS,
    MoneyTypeError,
    money_text,
    round_money,
    validate_currency,
)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [("2.345", "USD", "2.35"), ("2.344", "USD", "2.34"), ("-2.345", "USD", "-2.35"), ("1234.5", "JPY", "1235"),
     ("0.0005", "KWD", "0.001")],
)  # fmt: skip
def test_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    assert round_money(Decimal(amount), currency) == Decimal(expected)
    assert str(round_money(Decimal(amount), currency)) == expected


@given(
    amount=st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=6),
    currency=st.sampled_from(sorted(CURRENCY_MINOR_UNITS)),
)
def test_rounding_is_exact_idempotent_and_within_half_a_unit(amount: Decimal, currency: str) -> None:
    rounded = round_money(amount, currency)
    unit = Decimal(1).scaleb(-CURRENCY_MINOR_UNITS[currency])

    assert rounded.as_tuple().exponent == -CURRENCY_MINOR_UNITS[currency]
    assert round_money(rounded, currency) == rounded
    assert abs(rounded - amount) <= unit / 2


@pytest.mark.parametrize("amount", [2.5, True, "2.50"])
def test_floats_and_other_types_never_reach_a_money_path(amount: object) -> None:
    with pytest.raises(MoneyTypeError):
        round_money(amount, "USD")  # type: ignore[arg-type]


def test_every_iso_4217_currency_is_known_with_its_minor_units() -> None:
    assert {code: CURRENCY_MINOR_UNITS[code] for code in ("USD", "INR", "CLP", "JPY", "BHD", "KWD", "CLF")} == {
        "USD": 2, "INR": 2, "CLP": 0, "JPY": 0, "BHD": 3, "KWD": 3, "CLF": 4,
    }  # fmt: skip
    assert len(CURRENCY_MINOR_UNITS) > 150
    assert not {"XAU", "XXX", "XTS"} & set(CURRENCY_MINOR_UNITS)  # metals and test codes are not money
    assert MAX_MINOR_UNITS == 4


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [("0", "USD", "0.00"), ("450.0000", "USD", "450.00"), ("1200.0000", "JPY", "1200"), ("12.5", "BHD", "12.500"),
     ("-3", "CLP", "-3"), ("1E+3", "INR", "1000.00")],
)  # fmt: skip
def test_money_is_written_with_exactly_its_currency_minor_units(amount: str, currency: str, text: str) -> None:
    assert money_text(Decimal(amount), currency) == text


def test_a_currency_code_outside_the_list_is_refused() -> None:
    validate_currency("INR")
    with pytest.raises(ValidationError):
        validate_currency("XAU")
