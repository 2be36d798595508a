"""The audit trail: one append-only row per access to patient data or money records.

Views and services call ``audit_record``; it writes in the caller's
transaction, so an export that rolls back leaves no audit row claiming it ran,
and seals each event to the one before it (``backend/audit_chain.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from uuid import UUID

from django.db import DatabaseError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from backend.audit_chain import seal_and_insert
from backend.errors import problem_response
from backend.models import AuditEvent, User
from backend.transactions import request_transaction

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the web server saw it (proxies set REMOTE_ADDR via their own config)."""
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str = "",
    patient_id: UUID | None = None,
    patients: Collection[UUID] = (),
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    authenticated = actor is not None and actor.is_authenticated
    event = AuditEvent(
        actor=actor if authenticated else None,
        actor_username=actor.get_username() if authenticated and actor else "",
        roles=",".join(actor.role_names()) if authenticated and actor else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        patients=sorted(patients) or None,
        ip=ip,
        details=details or {},
    )
    return seal_and_insert(event)


# --- Who touched patient data: recorded for every API and admin request on patient records ------------
#
# Apps register which routes hold patient data (``audited_routes``) and how to find the patient of one
# record; ``AuditMiddleware`` writes one event per request on those routes, after the view ran (so the
# user DRF authenticated is known), denied attempts included (their status is in ``details``).

PatientOf = Callable[[str], UUID | None]


@dataclass(frozen=True)
class AuditedRoute:
    object_type: str
    patient_of: PatientOf | None = None  # object id (from the URL) -> the patient's public id


AUDITED_ROUTES: dict[str, AuditedRoute | None] = {}
AUDITED_ADMIN_MODELS: dict[str, AuditedRoute] = {}
ACTIONS = {"GET": "read", "HEAD": "read", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


def audited_routes(routes: dict[str, AuditedRoute | None], admin_models: dict[str, AuditedRoute]) -> None:
    """Register URL-name prefixes (``appointment`` covers ``appointment-cancel``); None marks a prefix as not
    patient data (``series-template`` under ``series``). Admin models by ``<app_label>_<model>``."""
    AUDITED_ROUTES.update(routes)
    AUDITED_ADMIN_MODELS.update(admin_models)


def _route_for(name: str) -> tuple[str, AuditedRoute] | None:
    parts = name.split("-")
    for size in range(len(parts), 0, -1):
        prefix = "-".join(parts[:size])
        if prefix in AUDITED_ROUTES:
            route = AUDITED_ROUTES[prefix]
            return (name[len(prefix) + 1 :], route) if route is not None else None
    return None


def _as_uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _api_event(
    request: HttpRequest, response: HttpResponse, name: str, kwargs: dict[str, Any]
) -> dict[str, Any] | None:
    found = _route_for(name)
    if found is None:
        return None
    suffix, route = found
    object_id = str(kwargs.get("id", kwargs.get("pk", "")))
    created = getattr(response, "data", None)
    patient: UUID | None = None
    if not object_id and response.status_code == 201 and isinstance(created, dict) and "id" in created:
        object_id = str(created["id"])  # what was created
        # Its answer names its patient (every "patient" field is one's public id): no query needed.
        patient = _as_uuid(created.get("patient", ""))
    action = ACTIONS.get(request.method or "GET") or (suffix if suffix and suffix != "list" else "create")
    if request.method == "GET" and suffix not in ("", "list", "detail"):
        action = f"read {suffix}"
    if patient is None and object_id and route.patient_of is not None:
        patient = route.patient_of(object_id)
    elif patient is None:
        patient = _as_uuid(request.GET.get("patient", ""))
    carried = patients_in(getattr(response, "data", None), route.object_type) - {patient}
    return {"action": action, "object_type": route.object_type, "object_id": object_id, "patient_id": patient,
            "patients": carried}  # fmt: skip


def patients_in(data: Any, object_type: str) -> set[UUID]:
    """Every patient an answer names: each ``patient`` member (a patient's public id), and each record's
    ``id`` in a list of patients. Walked without recursion; answers are pages, never unbounded."""
    found: set[UUID] = set()
    pending = [(data, False)]
    while pending:
        value, is_patient = pending.pop()
        if isinstance(value, dict):
            if is_patient and (patient := _as_uuid(value.get("id", ""))):
                found.add(patient)
            if isinstance(value.get("patient"), str) and (patient := _as_uuid(value["patient"])):
                found.add(patient)
            pending.extend((child, key == "results" and object_type == "patient") for key, child in value.items()
                           if isinstance(child, dict | list))  # fmt: skip
        elif isinstance(value, list):
            pending.extend((child, is_patient) for child in value if isinstance(child, dict | list))
    return found


def _admin_event(
    request: HttpRequest, shown: PatientsShown, name: str, kwargs: dict[str, Any]
) -> dict[str, Any] | None:
    model, _, view = name.rpartition("_")
    route = AUDITED_ADMIN_MODELS.get(model)
    if route is None or view not in ("changelist", "change", "delete", "history", "add"):
        return None
    object_id = str(kwargs.get("object_id", ""))
    patient = route.patient_of(object_id) if object_id and route.patient_of else None
    action = {"changelist": "read", "history": "read"}.get(view) or (
        "read" if request.method == "GET" else {"change": "update", "delete": "delete", "add": "create"}[view]
    )
    carried = shown.public_ids() if view == "changelist" else set()  # the rows of the page
    return {"action": f"admin {action}", "object_type": route.object_type, "object_id": object_id,
            "patient_id": patient, "patients": carried}  # fmt: skip


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class AuditMiddleware:
    """One audit event per API or admin request on patient data (see ``audited_routes``), written after
    the view answered (so the user DRF authenticated is known), refused attempts included.

    A request that may change something (any method but GET, HEAD and OPTIONS) runs in one transaction
    with its event (``backend.transactions.request_transaction``; services join it): a request whose
    event cannot be written changes nothing (503), and one that fails with a 5xx leaves neither. A read's
    event follows the answer; if the database went away in between, the answer stands and the loss is
    logged.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(("/api/", "/admin/")):
            return self.get_response(request)
        if request.method in SAFE_METHODS:
            with patients_shown() as shown:
                response = self.get_response(request)
            try:
                self.record(request, response, shown)
            except DatabaseError:
                logger.exception("audit event not recorded for %s %s", request.method, request.path)
            return response
        try:
            return request_transaction(lambda: self.answer_and_record(request))
        except DatabaseError:
            logger.exception("audit event not recorded for %s %s: nothing was changed", request.method,
                             request.path)  # fmt: skip
            return problem_response(
                HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable",
                "The change could not be recorded in the audit trail, so nothing was changed. Try again shortly.",
            )  # fmt: skip

    def answer_and_record(self, request: HttpRequest) -> HttpResponse:
        with patients_shown() as shown:
            response = self.get_response(request)
        self.record(request, response, shown)
        return response

    def record(self, request: HttpRequest, response: HttpResponse, shown: PatientsShown) -> None:
        match = request.resolver_match
        user = getattr(request, "user", None)
        if match is None or match.url_name is None or user is None or not user.is_authenticated:
            return
        if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return
        if request.path.startswith("/api/"):
            event = _api_event(request, response, match.url_name, match.kwargs)
        else:
            event = _admin_event(request, shown, match.url_name, match.kwargs)
        if event is not None:
            audit_record(actor=user, ip=client_ip(request),
                         details={"status": response.status_code, "path": request.path}, **event)  # fmt: skip


# --- What a server-rendered page showed -----------------------------------------------------------------
#
# The console renders its pages from model instances: every patient instance loaded while a page is built is
# a patient the page may show. ``patients_shown`` collects them while a view runs (``note_loaded`` is
# connected to the patient model's post_init by the scheduling app) and answers their public ids.

_shown: ContextVar[dict[type[Model], set[Any]] | None] = ContextVar("patients_shown", default=None)


def note_loaded(sender: type[Model], instance: Model, **_: Any) -> None:
    shown = _shown.get()
    if shown is not None and instance.pk is not None:
        shown.setdefault(sender, set()).add(instance.pk)


class PatientsShown:
    def __init__(self) -> None:
        self.loaded: dict[type[Model], set[Any]] = {}

    def public_ids(self) -> set[UUID]:
        """The loaded patients' public ids (one query per patient model, never per row)."""
        found: set[UUID] = set()
        for model, keys in self.loaded.items():
            found |= set(model._default_manager.filter(pk__in=keys).values_list("public_id", flat=True))
        return found


@contextmanager
def patients_shown() -> Iterator[PatientsShown]:
    seen = PatientsShown()
    token = _shown.set(seen.loaded)
    try:
        yield seen
    finally:
        _shown.reset(token)
