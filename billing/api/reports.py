"""Billing's reports as JSON or, with ``?format=csv``, as CSV (backend/reports.py)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.audit import client_ip
from backend.fields import PublicIdField
from backend.permissions import HasRole, acting_user
from backend.reports import ReportCSVRenderer, ReportFormats, ReportOutput, plain
from billing.permissions import BILLING_STAFF, Accounting
from billing.services.reports import report_run
from scheduling.api.ranges import LocationDateRange
from scheduling.selectors import locations_for


class AsOfQuery(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="End of this local day; today by default")
    location = PublicIdField(name="location", scope=locations_for, required=False, allow_null=True)


class ReportView(ReportFormats, APIView):
    permission_classes: tuple[type[BasePermission], ...] = (Accounting,)
    renderer_classes = (JSONRenderer, ReportCSVRenderer)
    query_class: type[serializers.Serializer] = LocationDateRange
    report_name: str  # a key of billing.services.reports.BUILDERS

    def get(self, request: Request) -> Response:
        query = self.query_class(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        report = report_run(actor=acting_user(request), name=self.report_name, params=dict(query.validated_data),
                            ip=client_ip(request))  # fmt: skip
        return Response({"report": report.name, "parameters": plain(report.parameters),
                         "rows": plain(report.rows), "totals": plain(report.totals)})  # fmt: skip


class RevenueReportView(ReportView):
    """Billed and credited by month, location and billing code (net and gross of tax)."""

    report_name = "revenue"

    @extend_schema(parameters=[LocationDateRange], responses=ReportOutput)
    def get(self, request: Request) -> Response:
        return super().get(request)


class AgingReportView(ReportView):
    """Accounts receivable at the end of a day, by invoice, bucketed 0 / 1-30 / 31-60 / 61-90 / 90+ days."""

    report_name = "ar_aging"
    query_class = AsOfQuery

    @extend_schema(parameters=[AsOfQuery], responses=ReportOutput)
    def get(self, request: Request) -> Response:
        return super().get(request)


class DailyCloseReportView(ReportView):
    """Reception's end of day: payments and refunds by method, deposits, applied to invoices."""

    report_name = "daily_close"
    permission_classes = (HasRole.of(*BILLING_STAFF),)

    @extend_schema(parameters=[LocationDateRange], responses=ReportOutput)
    def get(self, request: Request) -> Response:
        return super().get(request)


class PackageLiabilityReportView(ReportView):
    """Package sessions sold and not yet delivered, valued pro rata."""

    report_name = "package_liability"
    query_class = AsOfQuery

    @extend_schema(parameters=[AsOfQuery], responses=ReportOutput)
    def get(self, request: Request) -> Response:
        return super().get(request)
