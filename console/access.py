"""Who may open which console page: the API's own predicates, never a second copy of them.

A page names the rule it follows (``staff``, ``booking``, a transition's name...). Signed-out visitors
go to the sign-in page; a signed-in user the rule refuses gets a 403 page. Records are always read
through the selectors, scoped to the user, so another group's or another patient's record is a 404.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from functools import partial, wraps
from http import HTTPStatus
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from backend.access import is_staff_user
from backend.audit import audit_record, client_ip, patients_shown
from backend.errors import ApplicationError
from backend.models import User
from backend.permissions import user_has_role
from backend.roles import Role
from backend.throttling import FailOpenThrottle, form_post_wait
from backend.transactions import request_transaction
from billing.permissions import ACCOUNTING, BILLING_STAFF, INVOICE_WRITERS, PAYMENT_TAKERS, REFUNDERS
from outcomes.permissions import CLINICAL_ROLES, FOLLOW_UP_ROLES
from scheduling.permissions import TRANSITION_ROLES, WAITLIST_READERS, can_book, can_transition
from scheduling.services.transitions import CLEARANCE_OVERRIDE_ROLES

logger = logging.getLogger(__name__)

RULES: dict[str, Callable[[Any], bool]] = {
    "staff": is_staff_user,
    "booking": can_book,
    "billing": lambda user: user_has_role(user, *BILLING_STAFF),
    "write_invoices": lambda user: user_has_role(user, *INVOICE_WRITERS),
    "take_payments": lambda user: user_has_role(user, *PAYMENT_TAKERS),
    "refund": lambda user: user_has_role(user, *REFUNDERS),
    "accounting": lambda user: user_has_role(user, *ACCOUNTING),
    "clearance_override": lambda user: user_has_role(user, *CLEARANCE_OVERRIDE_ROLES),
    "patient": lambda user: user_has_role(user, Role.PATIENT),
    "clinical": lambda user: user_has_role(user, *CLINICAL_ROLES),
    "follow_up": lambda user: user_has_role(user, *FOLLOW_UP_ROLES),
    "waitlist": lambda user: user_has_role(user, *WAITLIST_READERS),
    **{f"transition:{action}": partial(can_transition, action=action) for action in TRANSITION_ROLES},
}


def actor(request: HttpRequest) -> User:
    """The signed-in user of a console page (``console_page`` has let only signed-in users through)."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - console_page guarantees it
    return user


def allowed(user: Any, rule: str) -> bool:
    return bool(user.is_authenticated) and RULES[rule](user)


def problem(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    fragment = bool(getattr(request, "htmx", False))
    template = "console/_problem.html" if fragment else "console/problem.html"
    return TemplateResponse(request, template, {"title": "Cannot do that", "error": error}, status=error.http_status)


def refused(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "console/refused.html", {"title": "Not allowed"}, status=403)


def too_many(request: HttpRequest, wait: float) -> HttpResponse:
    seconds = math.ceil(wait)
    error = ApplicationError(f"Too many requests: try again in {seconds} seconds.")
    error.http_status = 429
    response = problem(request, error)
    response["Retry-After"] = str(seconds)
    return response


def _recorded(view: Callable[..., HttpResponse], request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Run the view; record in the audit trail every patient its page showed, and every change it made."""
    with patients_shown() as shown:
        try:
            response = view(request, *args, **kwargs)
        except ApplicationError as error:  # what a view did not handle itself: its message, its status
            response = problem(request, error)
        if isinstance(response, TemplateResponse):
            response.render()  # while the loaded patients are counted
    try:
        patients = shown.public_ids()
        if patients or request.method == "POST":
            audit_record(
                actor=actor(request), action="console read" if request.method == "GET" else "console change",
                object_type=f"console {view.__name__}", object_id=str(next(iter(kwargs.values()), ""))[:64],
                patients=patients, ip=client_ip(request),
                details={"status": response.status_code, "path": request.path},
            )  # fmt: skip
    except DatabaseError:
        if request.method == "POST":
            raise  # the change goes with it (_changed)
        logger.exception("audit event not recorded for %s %s", request.method, request.path)  # a read stands
    return response


def _changed(view: Callable[..., HttpResponse], request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """A form post: the change and its audit event in one transaction, as the API's (a 5xx keeps neither)."""
    try:
        return request_transaction(lambda: _recorded(view, request, *args, **kwargs))
    except DatabaseError:
        error = ApplicationError("The change could not be recorded in the audit trail, so nothing was changed.")
        error.http_status = HTTPStatus.SERVICE_UNAVAILABLE
        return problem(request, error)


def console_page(
    rule: str, *, limit: type[FailOpenThrottle] | None = None
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Sign-in required; then ``rule`` (a key of RULES) decides, before the view runs.

    ``limit``: the API's rate limit for the request a POST of this page stands for (it counts on the same
    counters, so a user cannot get round the API's limit through the console).
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user, rule):
                return refused(request)
            if limit is not None and request.method == "POST" and (wait := form_post_wait(request, limit)):
                return too_many(request, wait)
            if request.method == "POST":
                return _changed(view, request, *args, **kwargs)
            return _recorded(view, request, *args, **kwargs)

        guarded.console_rule = rule  # type: ignore[attr-defined]  # read by the role-matrix test
        return guarded

    return decorate
