"""Who may do what with money, as named role sets and DRF permission classes.

Accountants and admins write invoices (drafts, issue, credit) and refund;
reception takes payments and deposits and sells packages; patients read their
own invoices, payments and documents. Clinicians have no billing access.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from backend.permissions import HasRole, user_has_role
from backend.roles import Role

BILLING_STAFF = (Role.ADMIN, Role.ACCOUNTANT, Role.RECEPTION)
BILLING_READERS = (*BILLING_STAFF, Role.PATIENT)
INVOICE_WRITERS = (Role.ADMIN, Role.ACCOUNTANT)
PAYMENT_TAKERS = (Role.ADMIN, Role.ACCOUNTANT, Role.RECEPTION)
REFUNDERS = (Role.ADMIN, Role.ACCOUNTANT)
PACKAGE_SELLERS = (Role.ADMIN, Role.ACCOUNTANT, Role.RECEPTION)


class ReadBilling(HasRole):
    roles = frozenset(BILLING_READERS)


class WriteInvoices(HasRole):
    roles = frozenset(INVOICE_WRITERS)


class TakePayments(HasRole):
    roles = frozenset(PAYMENT_TAKERS)


class Refund(HasRole):
    roles = frozenset(REFUNDERS)


class SellPackages(HasRole):
    roles = frozenset(PACKAGE_SELLERS)


class BillingStaffReadAdminWrite(BasePermission):
    """Billing set-up (fee schedule, packages, policies): billing staff read, admins write."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return user_has_role(request.user, *BILLING_STAFF)
        return user_has_role(request.user, Role.ADMIN)


ACCOUNTING = (Role.ADMIN, Role.ACCOUNTANT)


class Accounting(HasRole):
    """Exports and reports: accountants and admins only."""

    roles = frozenset(ACCOUNTING)
