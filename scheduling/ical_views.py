"""The private calendar feeds: ``/ical/patient/<token>.ics`` and ``/ical/staff/<token>.ics`` (no sign-in: the
token is the credential; an unknown or revoked one is a 404)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from scheduling.ics import calendar_bytes
from scheduling.services.calendar_feeds import active_feed, feed_visits


@require_GET
def calendar_feed(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    feed = active_feed(kind, token)
    if feed is None:
        raise Http404("No such calendar.")
    body = calendar_bytes(feed_visits(feed), "patient" if feed.patient_id else "staff")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
