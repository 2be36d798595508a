"""No double booking under real concurrency: threads on separate PostgreSQL connections."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable

import pytest
import time_machine
from django.db import IntegrityError, OperationalError, connection, connections

from backend.errors import ApplicationError
from scheduling.booking.calendar import LocationCalendar
from scheduling.models import Appointment, Patient
from scheduling.services.appointments import appointment_book, constraint_kind
from tests.scheduling.conftest import NOW, Clinic, clinic_with_patients, ny

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
THREADS = 24
MONDAY = dt.date(2026, 10, 5)


def run_at_once(work: Callable[[int], str]) -> Counter[str]:
    """Run ``work(i)`` in THREADS threads released together; count the outcomes."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def target(index: int) -> None:
        try:
            barrier.wait()
            result = work(index)
        except Exception as error:
            result = f"error: {error!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=target, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Counter(outcomes)


def attempt(**kwargs: object) -> str:
    try:
        appointment_book(actor=None, **kwargs)  # type: ignore[arg-type]
    except ApplicationError as error:
        return error.code
    return "booked"


def overlapping_active_pairs(column: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM scheduling_appointment a JOIN scheduling_appointment b
              ON a.{column} = b.{column} AND a.id < b.id
             AND tstzrange(a.start, a.hold_until) && tstzrange(b.start, b.hold_until)
             WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
            """  # noqa: S608 - column is one of two literals below
        )
        return int(cursor.fetchone()[0])


def overlapping_staff_pairs() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM scheduling_appointmentstaff a JOIN scheduling_appointmentstaff b
              ON a.staff_id = b.staff_id AND a.id < b.id
             AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")
             WHERE a.is_blocking AND b.is_blocking
            """
        )
        return int(cursor.fetchone()[0])


@pytest.fixture
def setup() -> tuple[Clinic, list[Patient]]:
    return clinic_with_patients(THREADS)


def test_many_receptionists_booking_one_chair_at_once_yield_exactly_one_booking(
    setup: tuple[Clinic, list[Patient]],
) -> None:
    clinic, patients = setup
    chair = clinic.chairs[0]

    with time_machine.travel(NOW, tick=False):
        outcomes = run_at_once(
            lambda i: attempt(
                patient=patients[i],
                service_type=clinic.infusion,
                location=clinic.location,
                start=ny(MONDAY, 9, (i % 4) * 10),
                resource=chair,
            )
        )

    assert outcomes == Counter({"booked": 1, "booking_conflict": THREADS - 1})
    assert Appointment.objects.filter(resource=chair).count() == 1
    assert overlapping_active_pairs("resource_id") == 0


def test_many_bookings_of_one_nurse_at_once_yield_exactly_one(setup: tuple[Clinic, list[Patient]]) -> None:
    clinic, patients = setup

    with time_machine.travel(NOW, tick=False):
        outcomes = run_at_once(
            lambda i: attempt(
                patient=patients[i],
                service_type=clinic.infusion,
                location=clinic.location,
                start=ny(MONDAY, 9),
                resource=clinic.chairs[i % 3],
                staff=[clinic.nurse],
            )
        )

    assert outcomes == Counter({"booked": 1, "booking_conflict": THREADS - 1})
    assert overlapping_staff_pairs() == 0


def test_one_patient_booked_by_many_at_once_gets_one_appointment(setup: tuple[Clinic, list[Patient]]) -> None:
    clinic, _patients = setup

    with time_machine.travel(NOW, tick=False):
        outcomes = run_at_once(
            lambda i: attempt(
                patient=clinic.patient,
                service_type=clinic.infusion,
                location=clinic.location,
                start=ny(MONDAY, 9, (i % 6) * 5),
            )
        )

    assert outcomes == Counter({"booked": 1, "booking_conflict": THREADS - 1})
    assert overlapping_active_pairs("patient_id") == 0


def test_auto_assignment_under_contention_fills_every_chair_and_never_overlaps(
    setup: tuple[Clinic, list[Patient]],
) -> None:
    clinic, patients = setup

    with time_machine.travel(NOW, tick=False):
        outcomes = run_at_once(
            lambda i: attempt(
                patient=patients[i], service_type=clinic.infusion, location=clinic.location, start=ny(MONDAY, 9)
            )
        )

    # Two nurses limit the slot to two infusions even though three chairs are free.
    assert outcomes == Counter({"booked": 2, "booking_conflict": THREADS - 2})
    assert overlapping_active_pairs("resource_id") == 0
    assert overlapping_staff_pairs() == 0


def test_the_database_alone_refuses_overlaps_from_concurrent_raw_inserts(
    setup: tuple[Clinic, list[Patient]],
) -> None:
    """Writers that skip the services (and their locks) still cannot double-book: the constraint holds."""
    clinic, patients = setup
    chair = clinic.chairs[0]

    def insert(index: int) -> str:
        start = ny(MONDAY, 9, (index % 5) * 7)
        try:
            Appointment.objects.create(
                patient=patients[index],
                service_type=clinic.infusion,
                location=clinic.location,
                resource=chair,
                start=start,
                end=start + dt.timedelta(minutes=40),
                hold_until=start + dt.timedelta(minutes=100),
            )
        except IntegrityError as error:
            return constraint_kind(error) or "other"
        except OperationalError as error:
            # Concurrent exclusion checks can wait on each other; PostgreSQL breaks the cycle by aborting
            # one side (40P01). That is a refusal too. (The booking services take advisory locks first,
            # so their writers never meet this.)
            sqlstate = getattr(error.__cause__, "sqlstate", None)
            return "deadlock" if sqlstate == "40P01" else f"error: {error!r}"
        return "inserted"

    outcomes = run_at_once(insert)

    assert outcomes["inserted"] == 1
    assert set(outcomes) <= {"inserted", "resource", "deadlock"}, outcomes  # every other writer was refused
    assert overlapping_active_pairs("resource_id") == 0


def test_a_stale_calendar_still_gets_a_409_from_the_constraint(
    setup: tuple[Clinic, list[Patient]], monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic, patients = setup
    with time_machine.travel(NOW, tick=False):
        assert attempt(patient=patients[0], service_type=clinic.infusion, location=clinic.location,
                       start=ny(MONDAY, 9), resource=clinic.chairs[0]) == "booked"  # fmt: skip
        # Pretend the application check missed the first booking (the case a bug or a race would create).
        monkeypatch.setattr(LocationCalendar, "_load_busy", lambda self, patient_ids: None)

        outcome = attempt(
            patient=patients[1],
            service_type=clinic.infusion,
            location=clinic.location,
            start=ny(MONDAY, 9, 30),
            resource=clinic.chairs[0],
        )

    assert outcome == "booking_conflict"
    assert Appointment.objects.count() == 1
