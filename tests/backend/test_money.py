"""The one rounding rule: ROUND_HALF_UP to the currency's minor unit, Decimal only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.money import CURRENCY_MINOR_UNITS, MoneyTypeError, round_money


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
