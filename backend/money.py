"""Money: ``Decimal`` amounts with an ISO 4217 currency; the one rounding rule.

Every amount is rounded once, per line, with :func:`round_money` (ROUND_HALF_UP
to the currency's minor unit); totals are sums of rounded lines. Never floats.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from iso4217 import Currency

# Every ISO 4217 currency with its minor units (JPY 0, USD 2, BHD 3, CLF 4), from the ``iso4217`` package's
# copy of the official list. Codes without minor units (gold, SDR, the test and "no currency" codes) are not
# money a clinic can be paid in and are left out.
CURRENCY_MINOR_UNITS: dict[str, int] = {
    currency.code: currency.exponent for currency in Currency if currency.exponent is not None
}
MAX_MINOR_UNITS = max(CURRENCY_MINOR_UNITS.values())  # the scale of every money column


def validate_currency(code: str) -> None:
    """Model-field validator: an ISO 4217 code this module knows (kept out of ``choices`` so that a new edition
    of the list needs no migration)."""
    if code not in CURRENCY_MINOR_UNITS:
        raise ValidationError(f"{code!r} is not an ISO 4217 currency code.", code="invalid_currency")


def money_field(verbose_name: str | None = None, **kwargs: Any) -> Any:
    """``NUMERIC(14, 4)``: an amount of up to ten whole digits in any currency; its currency sits next to it.
    Amounts are written rounded to their currency (:func:`round_money`) and read through :func:`money_text`."""
    return models.DecimalField(verbose_name, max_digits=10 + MAX_MINOR_UNITS, decimal_places=MAX_MINOR_UNITS, **kwargs)


def currency_field(**kwargs: Any) -> Any:
    """An ISO 4217 code (``CHAR(3)``-sized)."""
    return models.CharField(max_length=3, validators=[validate_currency], **kwargs)


class MoneyTypeError(TypeError):
    """A float (or other non-Decimal) reached a money path."""


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-CURRENCY_MINOR_UNITS[currency])


def money_text(amount: Decimal, currency: str) -> str:
    """An amount as the API, documents and reports write it: plain digits with exactly the currency's minor
    units, never an exponent ("450.00", "0.00", "1200" for JPY, "12.500" for BHD)."""
    return format(round_money(amount, currency), "f")


def round_money(amount: Decimal | int, currency: str) -> Decimal:
    """``amount`` rounded half-up to ``currency``'s minor unit. Floats are refused."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise MoneyTypeError(f"money must be Decimal, got {type(amount).__name__}")
    return Decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP)
