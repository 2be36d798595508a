"""``{{ amount|money:currency }}``: an amount with exactly its currency's minor units ("450.00", "1200" for JPY),
the same text the API and the documents write."""

from __future__ import annotations

from decimal import Decimal

from django import template

from backend.money import money_text

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    return "" if amount is None else money_text(amount, currency)
