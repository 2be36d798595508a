"""A populated clinic for requests generated from the schema: real records to name in paths and bodies."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from rest_framework.authtoken.models import Token

from tests.factories import PASSWORD
from tests.scheduling.conftest import Clinic
from tests.security.records import every_record

# Body fields that name a record -> the key of a real one in FuzzWorld.ids.
REFERENCES = {
    "patient": "patients", "location": "locations", "locations": "locations", "service_type": "service-types",
    "resource": "resources", "staff": "staff", "package": "packages", "series": "series", "group": "groups",
    "template": "series-templates", "appointment": "appointments", "invoice": "invoices",
}  # fmt: skip


@dataclass
class FuzzWorld:
    users: dict[str, Any]
    ids: dict[str, str]  # first path segment after /api/v1/ -> a real record's identifier
    closure_date: str

    def headers(self, role: str) -> dict[str, str]:
        # Fetched per request: the fuzzer may have signed the token out (POST /auth/logout/).
        token, _ = Token.objects.get_or_create(user=self.users[role])
        return {"Authorization": f"Token {token.key}"}

    def point_at_real_records(self, case: Any) -> None:
        """In schema-valid requests, name real records: in the path (three times in four) and in the body.

        Schema-violating requests are sent as generated.
        """
        if case.meta is None or not case.meta.generation.mode.is_positive:
            return
        parameters = case.path_parameters or {}
        resource = case.operation.path.removeprefix("/api/v1/").split("/")[0]
        for name, value in parameters.items():
            if zlib.crc32(repr(value).encode()) % 4 == 0:
                continue
            if name == "date":
                parameters[name] = self.closure_date
            elif name == "location_id":
                parameters[name] = self.ids["locations"]
            elif resource in self.ids:
                parameters[name] = self.ids[resource]
        for values in (case.body, case.query):
            if isinstance(values, dict):
                self._name_real_records(values)
        if case.operation.path == "/api/v1/auth/token/" and isinstance(case.body, dict):
            case.body.update(username=self.users["staff"].username, password=PASSWORD)

    def _name_real_records(self, values: dict[str, Any]) -> None:
        for field, value in values.items():
            if field in REFERENCES and isinstance(value, str):
                values[field] = self.ids[REFERENCES[field]]
            elif field in REFERENCES and isinstance(value, list):
                values[field] = [self.ids[REFERENCES[field]] for _ in value[:1]]


@pytest.fixture
def fuzz_world(clinic: Clinic, frozen_now: time_machine.Traveller) -> FuzzWorld:
    cache.clear()  # rate-limit counters start from zero for each operation
    every = every_record(clinic, export_owner=clinic.admin)
    records = every.records
    ids = {
        "locations": clinic.location.public_id, "resources": clinic.chairs[0].public_id,
        "staff": clinic.nurse.public_id, "service-types": clinic.infusion.public_id,
        "series-templates": every.template.public_id, "patients": clinic.patient.public_id,
        "appointments": records.appointment, "series": records.series, "invoices": records.invoice.public_id,
        "payments": records.payment, "refunds": records.refund.public_id, "fee-schedule": every.fee.pk,
        "packages": records.package.public_id, "package-sales": records.sale, "exports": every.export.public_id,
        "groups": clinic.group.public_id,
    }  # fmt: skip
    users = {"staff": clinic.admin, "patient": every.patient_user}
    return FuzzWorld(users, {key: str(value) for key, value in ids.items()}, every.closure.date.isoformat())


@contextmanager
def rolled_back_request() -> Iterator[None]:
    """One request inside the test's transaction, undone afterwards.

    The WSGI handler closes a connection that is inside a transaction at request
    start and end (close_old_connections); Django's test client unhooks it the
    same way. The savepoint makes every example start from the same clinic.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    savepoint = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(savepoint)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
