"""Billing's money arithmetic on top of ``backend.money``: line amounts and input checks.

A line's ``amount`` is ``round(quantity x unit_price)`` and its ``tax`` is
``round(amount x tax_rate)``, each rounded once (half-up to the currency's minor
unit); totals are sums of rounded lines, never re-rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backend.money import CURRENCY_MINOR_UNITS, MoneyTypeError, round_money
from billing.errors import CurrencyMismatch, InvalidAmount

MAX_AMOUNT = Decimal("9999999999.99")
MAX_TAX_RATE = Decimal(1)
TAX_RATE_RULE = "Between 0 and 1 (0.2 for 20%)."


def is_tax_rate(rate: Decimal) -> bool:
    """A tax rate is a fraction: 0 (none) to 1; 0.2 is 20% VAT."""
    return 0 <= rate <= MAX_TAX_RATE


@dataclass(frozen=True)
class LineAmounts:
    amount: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.amount + self.tax


def line_amounts(*, quantity: Decimal, unit_price: Decimal, tax_rate: Decimal, currency: str) -> LineAmounts:
    for value in (quantity, unit_price, tax_rate):
        if not isinstance(value, Decimal):
            raise MoneyTypeError(f"money must be Decimal, got {type(value).__name__}")
    amount = round_money(quantity * unit_price, currency)
    return LineAmounts(amount=amount, tax=round_money(amount * tax_rate, currency))


def ensure_currency(currency: str, expected: str) -> None:
    if currency != expected:
        raise CurrencyMismatch(
            f"This is billed in {expected}; the amount was given in {currency}.", errors={"currency": [expected]}
        )


def ensure_amount(amount: Decimal, currency: str, *, field: str = "amount") -> Decimal:
    """A positive amount with no more decimals than the currency has; refused with a clear 422 otherwise."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal):
        raise MoneyTypeError(f"money must be Decimal, got {type(amount).__name__}")
    if not amount.is_finite() or amount <= 0:
        raise InvalidAmount(f"The {field} must be more than zero.", errors={field: ["Must be more than zero."]})
    if amount > MAX_AMOUNT:
        raise InvalidAmount(f"The {field} is too large.", errors={field: ["Too large."]})
    minor = CURRENCY_MINOR_UNITS[currency]
    if round_money(amount, currency) != amount:
        message = f"{currency} amounts have at most {minor} decimals."
        raise InvalidAmount(message, errors={field: [message]})
    return amount
