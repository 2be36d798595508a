"""Book a series (plan first, alternatives accepted one by one, then all or nothing), and a series' page.

The plan and the booking call the same service code (``series_request``, ``series_plan``,
``series_book``); the booking carries the form's idempotency key, so a double click books once.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from backend.errors import ApplicationError
from backend.idempotency import run_idempotent
from backend.throttling import BookingThrottle
from console.access import actor, console_page
from console.params import by_public_id, form_data, found_or_404, validated
from scheduling import selectors
from scheduling.api.series import SeriesExtendInput, SeriesInput
from scheduling.booking.protocol import WEEKDAY_NAMES
from scheduling.models import Series
from scheduling.services.series import (
    SeriesPlan,
    SeriesRequest,
    series_book,
    series_cancel,
    series_extend,
    series_plan,
    series_status,
)


def _request_from_form(request: HttpRequest) -> SeriesRequest:
    """The form read by the API's own input serializer, then checked and merged by the booking service."""
    data = SeriesInput(data=form_data(request.POST), context={"request": request})
    validated(data)
    return data.series_request()


def _plan_rows(plan: SeriesPlan, total: int) -> list[dict[str, Any]]:
    failures = {failure.index: failure for failure in plan.failures}
    rows = []
    for index in range(total):
        placed, failure = plan.placed.get(index), failures.get(index)
        row: dict[str, Any] = {"number": index + 1, "index": index}
        if placed is not None:
            row.update(start=placed.start, resource=placed.resource.name)
        elif failure is not None:
            row.update(start=failure.start, reason=failure.error.detail, alternative=failure.alternative)
            if failure.alternative is not None:
                row["accept_value"] = f"{index}@{failure.alternative.start.isoformat()}"
        rows.append(row)
    return rows


def _form_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    return {
        "title": "Book a series",
        "section": "series",
        "locations": selectors.locations_for(user).order_by("name"),
        "templates": selectors.series_templates_for(user).select_related("service_type").order_by("name"),
        "service_types": selectors.service_types_for(user).filter(is_active=True).order_by("name"),
        "weekday_names": list(enumerate(WEEKDAY_NAMES)),
        "idempotency_key": uuid.uuid4().hex,
        "form": request.POST if request.method == "POST" else {},
        **extra,
    }


@console_page("booking")
def series_new(request: HttpRequest) -> HttpResponse:
    patient = by_public_id(selectors.patients_for(request.user), request.GET.get("patient"))
    return TemplateResponse(request, "console/series_new.html", _form_context(request, patient=patient))


def _plan_response(request: HttpRequest, asked: SeriesRequest, status: int = 200, **extra: Any) -> HttpResponse:
    plan = series_plan(asked)
    context = {
        "rows": _plan_rows(plan, asked.protocol.count), "plan": plan, "asked": asked,
        "zone": asked.location.timezone, **extra,
    }  # fmt: skip
    return TemplateResponse(request, "console/_series_plan.html", context, status=status)


@require_POST
@console_page("booking")
def series_preview(request: HttpRequest) -> HttpResponse:
    try:
        return _plan_response(request, _request_from_form(request))
    except ApplicationError as error:
        return TemplateResponse(request, "console/_problem.html", {"error": error}, status=error.http_status)


REVIEW = "The plan has changed or has alternatives not yet accepted: review the visits below, then book."


@require_POST
@console_page("booking", limit=BookingThrottle)
def series_create(request: HttpRequest) -> HttpResponse:
    """Book the series as planned, once per idempotency key; alternatives only where reception accepted them."""
    try:
        asked = _request_from_form(request)
    except ApplicationError as error:
        return TemplateResponse(request, "console/series_new.html", _form_context(request, error=error),
                                status=error.http_status)  # fmt: skip
    accepted = set(request.POST.getlist("accept"))
    replanned: list[SeriesPlan] = []

    def perform() -> tuple[int, Any]:
        plan = series_plan(asked)
        offered = {f"{f.index}@{f.alternative.start.isoformat()}" for f in plan.failures if f.alternative is not None}
        if not plan.bookable or not offered <= accepted:
            replanned.append(plan)
            return 409, {"detail": REVIEW}
        series = series_book(actor=actor(request), request=asked, accept_alternatives=bool(offered))
        return 201, {"series": str(series.public_id)}

    payload = {key: sorted(request.POST.getlist(key)) for key in request.POST if key != "csrfmiddlewaretoken"}
    status, body = run_idempotent(
        user=actor(request), scope="console.series.create", key=request.POST.get("idempotency_key") or None,
        payload=payload, perform=perform,
    )  # fmt: skip
    if status < 400:
        return redirect("console:series", series_id=body["series"])
    refusal = ApplicationError(str(body.get("detail") or "The series could not be booked."))
    context = _form_context(request, error=refusal, asked=asked, patient=asked.patient, zone=asked.location.timezone)
    if replanned:
        context["plan_first"] = _plan_rows(replanned[0], asked.protocol.count)
    return TemplateResponse(request, "console/series_new.html", context, status=status)


def _series(request: HttpRequest, series_id: str) -> Series:
    series = selectors.series_for(request.user).select_related("patient", "location", "service_type", "template")
    return found_or_404(series, series_id, "series")


def _series_page(request: HttpRequest, series: Series, status: int = 200, **extra: Any) -> HttpResponse:
    visits = list(selectors.appointments_for(request.user).filter(series=series).order_by("start"))
    context = {
        "title": f"Series of {series.patient.first_name} {series.patient.last_name}",
        "series": series, "visits": visits, "status": series_status(series, visits),
        "zone": series.location.timezone, "weekday_names": WEEKDAY_NAMES, **extra,
    }  # fmt: skip
    return TemplateResponse(request, "console/series.html", context, status=status)


@console_page("staff")
def series_detail(request: HttpRequest, series_id: str) -> HttpResponse:
    return _series_page(request, _series(request, series_id))


@require_POST
@console_page("booking", limit=BookingThrottle)
def series_extend_view(request: HttpRequest, series_id: str) -> HttpResponse:
    series = _series(request, series_id)
    try:
        values = validated(SeriesExtendInput(data=form_data(request.POST), context={"request": request}))
        series_extend(
            actor=actor(request), series=series, count=values["count"], first_date=values.get("first_date"),
            local_time=values.get("time"), service_type=values.get("service_type"),
            accept_alternatives=values["accept_alternatives"],
        )  # fmt: skip
    except ApplicationError as error:
        return _series_page(request, series, status=error.http_status, error=error)
    return redirect("console:series", series_id=series.public_id)


@require_POST
@console_page("booking", limit=BookingThrottle)
def series_cancel_view(request: HttpRequest, series_id: str) -> HttpResponse:
    series = _series(request, series_id)
    try:
        series_cancel(actor=actor(request), series=series, reason=request.POST.get("reason", ""))
    except ApplicationError as error:
        return _series_page(request, series, status=error.http_status, error=error)
    return redirect("console:series", series_id=series.public_id)
