"""Reports as JSON or, with ``?format=csv``, as CSV (the rows; totals stay in the JSON answer)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.audit import client_ip
from backend.fields import PublicIdField
from backend.money import money_text
from backend.permissions import HasRole, acting_user
from billing.api.ranges import LocationDateRange
from billing.permissions import BILLING_STAFF, Accounting
from billing.services.reports import report_run
from scheduling.selectors import locations_for

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain(value: Any) -> Any:
    """JSON-safe values: money and ids as strings, dates in ISO 8601, nested rows likewise."""
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def csv_safe(value: Any) -> Any:
    """The exports' spreadsheet-injection guard, for text cells written from Python."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        try:
            Decimal(value)
        except ArithmeticError:
            return "'" + value
    return value


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


class ReportCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        rows = [_flatten(row) for row in data.get("rows", [])]
        header: dict[str, None] = {}
        for row in rows:
            header.update(dict.fromkeys(row))
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(header), lineterminator="\n", restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: csv_safe(value) for key, value in row.items()})
        return text.getvalue().encode()


class AsOfQuery(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="End of this local day; today by default")
    location = PublicIdField(name="location", scope=locations_for, required=False, allow_null=True)


ReportOutput = inline_serializer("ReportOutput", {
    "report": serializers.CharField(), "parameters": serializers.DictField(),
    "rows": serializers.ListField(child=serializers.DictField()),
    "totals": serializers.ListField(child=serializers.DictField()),
})  # fmt: skip


class ReportView(APIView):
    permission_classes: tuple[type[BasePermission], ...] = (Accounting,)
    renderer_classes = (JSONRenderer, ReportCSVRenderer)
    query_class: type[serializers.Serializer] = LocationDateRange
    report_name: str  # a key of billing.services.reports.BUILDERS

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if response.status_code >= 400:  # errors keep the JSON problem format whatever was asked for
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # DRF serves JSON for "?format=" (and 404s an unknown format): name the choices instead.
        formats = [renderer.format for renderer in self.renderer_classes]
        if request.query_params.getlist("format") not in ([], *([name] for name in formats)):
            raise ValidationError({"format": [f"Use one of: {', '.join(formats)}."]})
        super().initial(request, *args, **kwargs)

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
