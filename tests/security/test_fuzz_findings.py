"""Regression tests for what schema-driven fuzzing (tests/security/test_fuzzing.py) found.

Each test names the finding: the request schemathesis sent and what was wrong with the answer.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator

from tests.billing.conftest import MONDAY, issued_invoice
from tests.scheduling.conftest import Clinic, ny


@pytest.fixture(scope="module")
def api_schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if field is not None:
        assert field in body["errors"], body
    return body


# --- times and offsets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "parameter", "value"),
    [
        ("/api/v1/appointments/", "start_from", "2199-06-16T23:14:32.68-23:57"),
        ("/api/v1/invoices/", "issued_from", "1901-03-15T18:43:58.8+18:54"),
    ],
)
def test_an_offset_postgresql_would_refuse_is_compared_in_utc(
    clinic: Clinic, url: str, parameter: str, value: str
) -> None:
    """?start_from=...-23:57 reached PostgreSQL (offsets up to 15:59 only) as a DataError."""
    response = clinic.client(clinic.admin).get(url, {parameter: value})

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0  # the clinic has no visits in 2199 and no invoices yet


def test_a_booking_time_with_a_large_offset_is_the_same_instant(clinic: Clinic) -> None:
    start = ny(MONDAY + dt.timedelta(days=3), 9).astimezone(dt.timezone(dt.timedelta(hours=20, minutes=30)))
    response = clinic.client(clinic.reception).post("/api/v1/appointments/", {
        "patient": str(clinic.patient.public_id), "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id), "start": start.isoformat(),
    })  # fmt: skip

    assert response.status_code == 201, response.content
    assert response.json()["start"] == ny(MONDAY + dt.timedelta(days=3), 9).isoformat()


@pytest.mark.parametrize("opens", ["08:00Z", "08:00:00+01:00", "8"])
def test_wall_clock_times_take_no_offset(clinic: Clinic, opens: str) -> None:
    """POST opening-hours with "00:00:00Z" was accepted where the schema (format: time) allowed it."""
    url = f"/api/v1/locations/{clinic.location.public_id}/opening-hours/"

    response = clinic.client(clinic.admin).post(url, {"weekday": 0, "opens": opens, "closes": "17:00"})

    _problem(response, 400, "opens")


def test_the_schema_gives_wall_clock_times_and_local_start_as_patterns(api_schema: dict[str, Any]) -> None:
    schemas = api_schema["components"]["schemas"]
    opens = schemas["OpeningRuleRequest"]["properties"]["opens"]
    local_start = schemas["AppointmentCreateInputRequest"]["properties"]["local_start"]

    assert "format" not in opens
    assert opens["pattern"].startswith("^(")
    assert "format" not in local_start
    assert local_start["pattern"].endswith("?$")


# --- the problem body ----------------------------------------------------------------------------


def test_an_invalid_transition_keeps_status_as_the_http_status(clinic: Clinic) -> None:
    """POST /appointments/{id}/complete/ on a scheduled visit answered {"status": "scheduled"}."""
    booked = clinic.client(clinic.reception).post("/api/v1/appointments/", {
        "patient": str(clinic.patient.public_id), "service_type": str(clinic.infusion.public_id),
        "location": str(clinic.location.public_id), "start": ny(MONDAY + dt.timedelta(days=3), 9).isoformat(),
    }).json()  # fmt: skip

    response = clinic.client(clinic.clinician).post(f"/api/v1/appointments/{booked['id']}/complete/")

    body = _problem(response, 409)
    assert (body["code"], body["current_status"], body["action"]) == ("invalid_transition", "scheduled", "complete")


# --- query strings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        ("/api/v1/invoices/", "patient=", "patient"),  # was: every patient's invoices
        ("/api/v1/appointments/", "to=", "to"),
        ("/api/v1/appointments/", "from=", "from"),
        ("/api/v1/payments/", "is_deposit=null", "is_deposit"),
        ("/api/v1/payments/", "is_deposit=true&is_deposit=false", "is_deposit"),
        ("/api/v1/reports/ar-aging/", "as_of=", "as_of"),
        ("/api/v1/reports/package-liability/", "location=", "location"),
        ("/api/v1/locations/", "page_size=0", "page_size"),
        ("/api/v1/locations/", "page_size=501", "page_size"),
        ("/api/v1/locations/", "page_size=null", "page_size"),
        ("/api/v1/locations/", "page=", "page"),
        ("/api/v1/locations/", "page=last", "page"),
        ("/api/v1/reports/revenue/", "from=2026-10-01&to=2026-10-31&format=", "format"),
        ("/api/v1/reports/revenue/", "from=2026-10-01&to=2026-10-31&format=pdf", "format"),
    ],
)
def test_query_values_drf_would_quietly_ignore_are_a_400(clinic: Clinic, url: str, query: str, field: str) -> None:
    response = clinic.client(clinic.admin).get(f"{url}?{query}")

    _problem(response, 400, field)


def test_empty_search_text_still_means_no_filter(clinic: Clinic) -> None:
    response = clinic.client(clinic.admin).get("/api/v1/patients/?search=")

    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_a_page_past_the_end_is_still_a_404(clinic: Clinic) -> None:
    _problem(clinic.client(clinic.admin).get("/api/v1/locations/?page=9"), 404)


def test_the_schema_bounds_page_and_page_size(api_schema: dict[str, Any]) -> None:
    parameters = {p["name"]: p["schema"] for p in api_schema["paths"]["/api/v1/locations/"]["get"]["parameters"]}

    assert (parameters["page"]["minimum"], parameters["page_size"]["minimum"]) == (1, 1)
    assert parameters["page_size"]["maximum"] == 500


# --- request bodies ----------------------------------------------------------------------------------


def test_a_number_where_text_belongs_is_refused(clinic: Clinic) -> None:
    """POST /service-types/ with "name": 12 was saved as "12"."""
    response = clinic.client(clinic.admin).patch(f"/api/v1/locations/{clinic.location.public_id}/", {"name": 12})

    _problem(response, 400, "name")
    clinic.location.refresh_from_db()
    assert clinic.location.name == "Boston"


def test_an_empty_id_is_a_malformed_id_not_null(clinic: Clinic) -> None:
    response = clinic.client(clinic.accountant).post(
        "/api/v1/exports/", {"kind": "invoices", "from": "2026-10-01", "to": "2026-10-31", "location": ""}
    )

    _problem(response, 400, "location")


def test_form_encoded_bodies_are_refused_the_api_speaks_json(clinic: Clinic) -> None:
    response = clinic.client(clinic.admin).post(
        f"/api/v1/locations/{clinic.location.public_id}/closures/",
        "date=2026-12-25&reason=Holiday",
        content_type="application/x-www-form-urlencoded",
    )

    _problem(response, 415)


def test_sign_in_limits_keep_no_username_in_the_cache(clinic: Clinic, api_client: Any) -> None:
    """The per-username counter used the typed text as its key ("throttle_login_username_[none, none]")."""
    cache.clear()
    api_client.post("/api/v1/auth/token/", {"username": "Ünïcode name\x12", "password": "x"}, format="json")

    keys = list(cache._cache)  # type: ignore[attr-defined]  # locmem in the test settings
    assert keys
    assert not any("nïcode" in key or "\x12" in key for key in keys)


# --- what the schema says --------------------------------------------------------------------------


def test_weekly_rules_document_one_rule_for_post_and_a_list_for_put(api_schema: dict[str, Any]) -> None:
    """PUT /opening-hours/ took a list while the schema promised an object."""
    path = api_schema["paths"]["/api/v1/locations/{id}/opening-hours/"]
    body = "requestBody"

    assert path["post"][body]["content"]["application/json"]["schema"]["$ref"].endswith("OpeningRuleRequest")
    assert path["put"][body]["content"]["application/json"]["schema"]["type"] == "array"
    assert set(path["post"][body]["content"]) == {"application/json"}


def test_the_clearance_history_is_documented_as_the_plain_list_it_is(api_schema: dict[str, Any]) -> None:
    get = api_schema["paths"]["/api/v1/patients/{id}/clearance/"]["get"]

    assert get["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    assert not any(parameter["name"] == "search" for parameter in get.get("parameters", []))


def test_export_downloads_document_their_media_types(api_schema: dict[str, Any]) -> None:
    content = api_schema["paths"]["/api/v1/exports/stream/"]["get"]["responses"]["200"]["content"]

    assert {"text/csv; charset=utf-8", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= set(
        content
    )


def test_decimal_patterns_need_a_digit(api_schema: dict[str, Any]) -> None:
    patterns = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and isinstance(node.get("pattern"), str) and r"\d{" in node["pattern"]:
                patterns.append(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(api_schema)
    decimal_patterns = [p for p in patterns if r"\." in p]
    assert decimal_patterns
    for pattern in decimal_patterns:
        assert not any(re.fullmatch(pattern, text) for text in ("", "-", ".", "-.")), pattern
        assert re.fullmatch(pattern, "0.5"), pattern


def test_an_issued_invoice_lists_with_the_new_filters(clinic: Clinic) -> None:
    invoice = issued_invoice(clinic)

    response = clinic.client(clinic.accountant).get("/api/v1/invoices/", {"patient": str(clinic.patient.public_id)})

    assert [row["id"] for row in response.json()["results"]] == [str(invoice.public_id)]
