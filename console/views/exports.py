"""Exports from the accountant's desk: start one (the API's fields, service and rate limit), watch its progress
bar follow the worker's real row count to 100 %, download the file from the API when it is done."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from backend.audit import client_ip
from backend.errors import ApplicationError
from backend.throttling import ExportThrottle
from billing import selectors as billing
from billing.api.exports import ExportFields, spec_from
from billing.models import ExportFormat, ExportKind
from billing.services.exports import export_request
from console.access import actor, console_page
from console.params import form_data, found_or_404, validated
from scheduling import selectors

RECENT = 20


@console_page("accounting", limit=ExportThrottle)
def exports(request: HttpRequest) -> HttpResponse:
    """GET: the form and the user's recent exports; POST: start one, then back to the list."""
    if request.method == "POST":
        try:
            values = validated(ExportFields(data=form_data(request.POST), context={"request": request}))
            export_request(actor=actor(request), spec=spec_from(values), ip=client_ip(request))
        except ApplicationError as error:
            return _page(request, status=error.http_status, error=error, given=request.POST)
        return redirect("console:exports")
    return _page(request)


def _page(request: HttpRequest, status: int = 200, **extra: object) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "title": "Exports", "section": "billing", "tab": "exports",
        "jobs": billing.exports_for(request.user)[:RECENT], "kinds": ExportKind.choices,
        "formats": ExportFormat.choices, "locations": selectors.locations_for(request.user).order_by("name"),
        "given": {"from": today.replace(day=1).isoformat(), "to": today.isoformat(), "kind": "invoices"},
        **extra,
    }  # fmt: skip
    return TemplateResponse(request, "console/exports.html", context, status=status)


@console_page("accounting")
def export_status(request: HttpRequest, export_id: str) -> HttpResponse:
    """One export's row, polled while the worker writes it."""
    job = found_or_404(billing.exports_for(request.user), export_id, "export")
    return TemplateResponse(request, "console/_export_row.html", {"job": job})
