"""A location's setup is kept in memory per version, and every change to what it holds replaces the version."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from scheduling.booking.calendar import LocationCalendar
from scheduling.booking.location_setup import LocationSetup, location_setup
from scheduling.models import Closure, Location, OpeningRule, Resource, Shift, StaffMember, StaffRole
from tests.factories import LocationFactory, OpeningRuleFactory, ResourceFactory, ShiftFactory, StaffMemberFactory
from tests.scheduling.conftest import Clinic, ny, recorded_while

MONDAY = dt.date(2026, 10, 5)


def version(location: Location) -> Any:
    return Location.objects.values_list("setup_version", flat=True).get(pk=location.pk)


def sql(statement: str, *params: int | str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_an_unchanged_setup_costs_one_small_query(clinic: Clinic, django_assert_num_queries: Any) -> None:
    first = location_setup(clinic.location.pk)

    with django_assert_num_queries(1):
        again = location_setup(clinic.location.pk)

    assert again is first
    assert {resource.name for resource in first.resources} == {"Chair 1", "Chair 2", "Room"}
    assert [member.name for member in first.staff] == ["Dr. Chen", "Nurse Joy", "Nurse Kim", "Sam Therapist"]
    assert first.open_weekdays == {0, 1, 2, 3, 4}


# Each change, and what the reloaded setup must show for it.
CHANGES: dict[str, tuple[Callable[[Clinic], object], Callable[[Clinic, LocationSetup], bool]]] = {
    "opening rule added": (
        lambda c: OpeningRuleFactory(location=c.location, weekday=5),
        lambda c, s: 5 in s.open_weekdays,
    ),
    "opening hours changed": (
        lambda c: OpeningRule.objects.filter(location=c.location, weekday=0).update(closes=dt.time(12)),
        lambda c, s: next(r for r in s.opening_rules if r.weekday == 0).closes == dt.time(12),
    ),
    "opening rule removed": (
        lambda c: OpeningRule.objects.filter(location=c.location, weekday=1).delete(),
        lambda c, s: 1 not in s.open_weekdays,
    ),
    "closure added": (
        lambda c: Closure.objects.create(location=c.location, date=MONDAY, reason="Training"),
        lambda c, s: MONDAY in s.closures,
    ),
    "resource deactivated": (
        lambda c: Resource.objects.filter(pk=c.chairs[0].pk).update(is_active=False),
        lambda c, s: c.chairs[0].pk not in {r.pk for r in s.resources},
    ),
    "resource renamed": (
        lambda c: Resource.objects.filter(pk=c.chairs[0].pk).update(name="Window chair"),
        lambda c, s: "Window chair" in {r.name for r in s.resources},
    ),
    "resource added": (
        lambda c: ResourceFactory(location=c.location, name="Chair 9"),
        lambda c, s: "Chair 9" in {r.name for r in s.resources},
    ),
    "staff member leaves the location": (
        lambda c: c.nurse.locations.remove(c.location),
        lambda c, s: c.nurse.pk not in s.staff_ids,
    ),
    "staff member joins the location": (
        lambda c: StaffMemberFactory(group=c.group, name="Nurse New", roles=[StaffRole.NURSE]).locations.add(
            c.location
        ),
        lambda c, s: "Nurse New" in {m.name for m in s.staff},
    ),
    "staff member's roles change": (
        lambda c: StaffMember.objects.filter(pk=c.nurse.pk).update(roles=[StaffRole.PHYSICIAN]),
        lambda c, s: next(m for m in s.staff if m.pk == c.nurse.pk).roles == [StaffRole.PHYSICIAN],
    ),
    "staff member deactivated": (
        lambda c: StaffMember.objects.filter(pk=c.nurse2.pk).update(is_active=False),
        lambda c, s: c.nurse2.pk not in s.staff_ids,
    ),
    "shift added": (
        lambda c: ShiftFactory(staff=c.nurse, location=c.location, weekday=6),
        lambda c, s: 6 in {shift.weekday for shift in s.shifts[c.nurse.pk]},
    ),
    "shift changed": (
        lambda c: Shift.objects.filter(staff=c.nurse, location=c.location, weekday=0).update(opens=dt.time(10)),
        lambda c, s: next(x for x in s.shifts[c.nurse.pk] if x.weekday == 0).opens == dt.time(10),
    ),
    "shift removed": (
        lambda c: Shift.objects.filter(staff=c.nurse, location=c.location, weekday=2).delete(),
        lambda c, s: 2 not in {shift.weekday for shift in s.shifts[c.nurse.pk]},
    ),
    "resource deactivated in plain SQL": (
        lambda c: sql("UPDATE scheduling_resource SET is_active = false WHERE id = %s", c.room.pk),
        lambda c, s: c.room.pk not in {r.pk for r in s.resources},
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_to_the_setup_gives_the_location_a_new_version_and_is_seen_at_once(
    clinic: Clinic, change: str
) -> None:
    apply, shows = CHANGES[change]
    before = location_setup(clinic.location.pk)
    assert not shows(clinic, before)

    apply(clinic)

    after = location_setup(clinic.location.pk)
    assert after.version != before.version
    assert shows(clinic, after)


def test_changes_at_another_location_leave_this_ones_setup_alone(clinic: Clinic) -> None:
    other = LocationFactory(group=clinic.group, name="Cambridge")
    before = version(clinic.location)

    OpeningRuleFactory(location=other, weekday=0)
    ResourceFactory(location=other, name="Chair A")
    StaffMemberFactory(group=clinic.group, name="Dr. Other").locations.add(other)

    assert version(clinic.location) == before


def test_a_calendar_built_after_a_change_never_offers_what_the_change_removed(clinic: Clinic) -> None:
    start = ny(MONDAY, 9)
    window = (start, start + dt.timedelta(hours=2))
    offered = LocationCalendar(clinic.location, *window).placement(clinic.infusion, start)
    assert offered is not None
    assert offered.resource == clinic.chairs[0]

    Resource.objects.filter(pk=clinic.chairs[0].pk).update(is_active=False)  # the in-memory location is stale
    Closure.objects.create(location=clinic.location, date=MONDAY + dt.timedelta(days=1))

    calendar = LocationCalendar(clinic.location, *window)
    assert calendar.placement(clinic.infusion, start).resource == clinic.chairs[1]  # type: ignore[union-attr]
    tuesday = ny(MONDAY + dt.timedelta(days=1), 9)
    assert (
        LocationCalendar(clinic.location, tuesday, tuesday + dt.timedelta(hours=2)).placement(clinic.infusion, tuesday)
        is None
    )


def test_a_setup_expands_each_day_once_and_leaves_closures_out(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening hours and shifts (alternate Fridays included) as the rules give them, remembered per day."""
    from scheduling.booking import location_setup as module
    from scheduling.time import expand_rules, merge_intervals

    Closure.objects.create(location=clinic.location, date=MONDAY + dt.timedelta(days=1))
    setup = location_setup(clinic.location.pk)
    zone, first, last = clinic.location.zone, MONDAY - dt.timedelta(days=3), MONDAY + dt.timedelta(days=30)
    closed = {MONDAY + dt.timedelta(days=1)}
    expected = {
        None: merge_intervals(expand_rules(setup.opening_rules, zone, first, last, closed)),
        clinic.nurse.pk: merge_intervals(expand_rules(setup.shifts[clinic.nurse.pk], zone, first, last, closed)),
    }

    assert {key: setup.intervals(key, zone, first, last) for key in expected} == expected
    expansions: list[dt.date] = []

    def counting(*args: Any) -> list[Any]:
        expansions.append(args[2])
        return []

    monkeypatch.setattr(module, "expand_rules", counting)
    assert setup.intervals(None, zone, first + dt.timedelta(days=2), last) == [
        interval for interval in expected[None] if interval[0].astimezone(zone).date() >= first + dt.timedelta(days=2)
    ]
    # The last day comes from memory; the day after is new, so it alone is expanded (by the patched stand-in).
    assert setup.intervals(None, zone, last, last + dt.timedelta(days=1)) == expected[None][-1:]
    assert expansions == [last + dt.timedelta(days=1)]


def test_every_table_the_setup_loader_reads_has_a_trigger_that_renews_the_version(clinic: Clinic) -> None:
    """A table read by ``_load`` without a trigger would leave a stale setup in memory after a change to it."""
    from scheduling.booking.location_setup import _load

    current = version(clinic.location)
    statements = recorded_while(lambda: _load(clinic.location.pk, current))
    read = {table for query in statements for table in re.findall(r'(?:FROM|JOIN) "(\w+)"', query)}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE NOT t.tgisinternal AND p.proname IN"
            " ('scheduling_location_setup_changed', 'scheduling_staff_setup_changed')"
        )
        triggered = {row[0] for row in cursor.fetchall()}

    assert read == {"scheduling_openingrule", "scheduling_closure", "scheduling_resource", "scheduling_shift",
                    "scheduling_staffmember", "scheduling_staffmember_locations"}  # fmt: skip
    assert read <= triggered, read - triggered
