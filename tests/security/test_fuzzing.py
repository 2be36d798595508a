"""Schema-driven fuzzing: every operation of ``/api/schema/``, in-process, as staff and as a patient.

Schemathesis generates requests from the published OpenAPI schema (valid and
invalid ones) and runs all of its default checks on each answer: no 5xx,
status codes, content types, headers and bodies as the schema documents them,
invalid input refused, valid input not refused for being malformed.

Path identifiers are mostly replaced by real records of a populated clinic
(otherwise nearly every detail request would be a 404 and the fuzzer would
never reach the code behind it); one request in four keeps the generated
identifier. Each request runs inside a savepoint that is rolled back, so
every example starts from the same clinic, as a request in production starts
from committed data.

The example count per operation is ``FUZZ_EXAMPLES`` (default 6 in the suite);
runs are derandomised so CI is repeatable. ``FUZZ_RANDOM=1`` explores fresh
random inputs on each run (see docs/security.md for a deeper run).
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema

from backend.wsgi import application
from tests.security.world import FuzzWorld, fuzz_world, rolled_back_request

__all__ = ["fuzz_world"]  # the fixture, imported for the tests below

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# A schema cannot state every rule: references to records that do not exist and
# rules across fields (closes after opens, either lines or appointments) are 400,
# business rules (a visit in the past, an uncleared patient) 422. Valid-by-schema
# data may get those; the other checks still hold every answer to the schema.
ACCEPTED_VALID_DATA = ["2xx", "400", "401", "403", "404", "409", "422", "429"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_VALID_DATA}}}
)
schema: BaseSchema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)
if os.environ.get("FUZZ_PATHS"):  # a regular expression, to work on some operations only
    schema = schema.include(path_regex=os.environ["FUZZ_PATHS"])


def _call_and_validate(case: Any, world: FuzzWorld, role: str) -> None:
    world.point_at_real_records(case)
    headers = world.headers(role)
    with rolled_back_request():
        case.call_and_validate(headers=headers)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_staff(case: Any, fuzz_world: FuzzWorld) -> None:
    _call_and_validate(case, fuzz_world, "staff")


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_patient(case: Any, fuzz_world: FuzzWorld) -> None:
    _call_and_validate(case, fuzz_world, "patient")
