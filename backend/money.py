"""Money: ``Decimal`` amounts with an ISO 4217 currency; the one rounding rule.

Every amount is rounded once, per line, with :func:`round_money` (ROUND_HALF_UP
to the currency's minor unit); totals are sums of rounded lines. Never floats.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Currencies a clinic may price in, with their minor units (ISO 4217).
CURRENCY_MINOR_UNITS: dict[str, int] = {
    "USD": 2, "CAD": 2, "EUR": 2, "GBP": 2, "AUD": 2, "NZD": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2,
    "MXN": 2, "JPY": 0, "ISK": 0, "KWD": 3, "BHD": 3,
}  # fmt: skip
CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_MINOR_UNITS)]


class MoneyTypeError(TypeError):
    """A float (or other non-Decimal) reached a money path."""


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-CURRENCY_MINOR_UNITS[currency])


def money_text(amount: Decimal) -> str:
    """An amount as the API, documents and reports write it: plain digits, never an exponent ("450.00")."""
    return format(amount, "f")


def round_money(amount: Decimal | int, currency: str) -> Decimal:
    """``amount`` rounded half-up to ``currency``'s minor unit. Floats are refused."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise MoneyTypeError(f"money must be Decimal, got {type(amount).__name__}")
    return Decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP)
