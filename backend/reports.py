"""Reports as JSON or, with ``?format=csv`` or ``?format=xlsx``, as a spreadsheet of their rows (totals stay
in the JSON answer). Shared by billing's and the outcomes app's reports."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from drf_spectacular.utils import inline_serializer
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from backend.money import CURRENCY_MINOR_UNITS, money_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def decimal_text(value: Decimal, currency: str | None) -> str:
    """A decimal of a report row: money with its currency's minor units when the row names a currency,
    any other figure (hours, a share) as it is."""
    return money_text(value, currency) if currency in CURRENCY_MINOR_UNITS else format(value, "f")


def plain(value: Any, currency: str | None = None) -> Any:
    """JSON-safe values: money and ids as strings, dates in ISO 8601, nested rows likewise. The amounts of a
    row that has a ``currency`` are written in that currency."""
    if isinstance(value, Decimal):
        return decimal_text(value, currency)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        row_currency = value.get("currency", currency)
        return {key: plain(item, row_currency) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item, currency) for item in value]
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


def report_rows(data: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """The answer's rows, nested members flattened to "a.b" columns, and every column in first-seen order."""
    rows = [_flatten(row) for row in data.get("rows", [])]
    header: dict[str, None] = {}
    for row in rows:
        header.update(dict.fromkeys(row))
    return list(header), rows


class ReportCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        header, rows = report_rows(data)
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=header, lineterminator="\n", restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: csv_safe(value) for key, value in row.items()})
        return text.getvalue().encode()


class ReportXLSXRenderer(BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        header, rows = report_rows(data)
        book = Workbook(write_only=True)
        sheet = book.create_sheet(str(data.get("report", "report"))[:31])
        sheet.append(header)
        for row in rows:
            sheet.append([_cell(row.get(name)) for name in header])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return csv_safe(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


class ReportFormats:
    """For report views: ``?format=`` names one of the view's renderers (else a 400 naming them), and an error
    stays in the JSON problem format whatever was asked for."""

    renderer_classes: tuple[type[BaseRenderer], ...] = (JSONRenderer, ReportCSVRenderer)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # DRF serves JSON for "?format=" (and 404s an unknown format): name the choices instead.
        formats = [renderer.format for renderer in self.renderer_classes]
        if request.query_params.getlist("format") not in ([], *([name] for name in formats)):
            raise ValidationError({"format": [f"Use one of: {', '.join(formats)}."]})
        super().initial(request, *args, **kwargs)  # type: ignore[misc]


ReportOutput = inline_serializer("ReportOutput", {
    "report": serializers.CharField(), "parameters": serializers.DictField(),
    "rows": serializers.ListField(child=serializers.DictField()),
    "totals": serializers.ListField(child=serializers.DictField()),
})  # fmt: skip
