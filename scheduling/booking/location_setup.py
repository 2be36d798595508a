"""What a calendar needs to know about a location that rarely changes, kept in memory per version.

Opening hours, closures, resources, staff and their shifts change a few times
a year; bookings read them many times a minute. Each process keeps the last
setup it loaded for each location, labelled with the location's
``setup_version``, which database triggers replace whenever any of those rows
changes (migration 0006, whoever writes). A caller reads the current version
(one small query) and reloads only when it differs.

A setup labelled with a version holds what was committed at that version or
later, never earlier: the version is read first. Setups are shared by every
request of the process and must not be modified (they remember each day's
expanded hours, which depend on nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from scheduling.errors import InvalidBookingRequest
from scheduling.models import Closure, Location, OpeningRule, Resource, Shift, StaffMember
from scheduling.time import Interval, dates_between, expand_rules, merge_intervals


@dataclass(frozen=True)
class LocationSetup:
    location_id: int
    version: UUID
    opening_rules: tuple[OpeningRule, ...]
    closures: frozenset[date]
    resources: tuple[Resource, ...]  # active ones, by name
    staff: tuple[StaffMember, ...]  # active people working here, by name
    shifts: Mapping[int, tuple[Shift, ...]]  # staff member's pk -> their shifts here
    # (staff member's pk or None for opening hours, zone, date) -> that day's UTC intervals; filled as asked.
    _days: dict[tuple[int | None, str, date], list[Interval]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def open_weekdays(self) -> set[int]:
        return {rule.weekday for rule in self.opening_rules}

    def intervals(self, staff_id: int | None, zone: ZoneInfo, first: date, last: date) -> list[Interval]:
        """Opening hours (``staff_id`` None) or a staff member's shifts here, as merged UTC intervals from
        ``first`` to ``last``, closures left out. Each day is expanded once per setup and remembered."""
        rules = self.opening_rules if staff_id is None else self.shifts.get(staff_id, ())
        days = self._days
        found: list[Interval] = []
        for day in dates_between(first, last):
            key = (staff_id, zone.key, day)
            todays = days.get(key)
            if todays is None:
                todays = days[key] = [] if day in self.closures else expand_rules(rules, zone, day, day)
            found.extend(todays)
        return merge_intervals(found)

    @property
    def staff_ids(self) -> list[int]:
        return [member.pk for member in self.staff]


_LOADED: dict[int, LocationSetup] = {}


def _current_version(location_id: int) -> UUID:
    version = Location.objects.filter(pk=location_id).values_list("setup_version", flat=True).first()
    if version is None:
        raise InvalidBookingRequest("That location no longer exists.", errors={"location": ["Not found."]})
    return version


def _load(location_id: int, version: UUID) -> LocationSetup:
    staff = tuple(
        StaffMember.objects.filter(locations=location_id, is_active=True)
        .prefetch_related(Prefetch("shifts", queryset=Shift.objects.filter(location_id=location_id)))
        .order_by("name", "pk")
        .distinct()
    )
    return LocationSetup(
        location_id=location_id,
        version=version,
        opening_rules=tuple(OpeningRule.objects.filter(location_id=location_id)),
        closures=frozenset(Closure.objects.filter(location_id=location_id).values_list("date", flat=True)),
        resources=tuple(Resource.objects.filter(location_id=location_id, is_active=True).order_by("name")),
        staff=staff,
        shifts={member.pk: tuple(member.shifts.all()) for member in staff},
    )


def location_setup(location_id: int, *, version: UUID | None = None) -> LocationSetup:
    """The location's current setup: from memory when its version is unchanged, else loaded (5 queries).

    ``version``: the location's ``setup_version`` as the caller has just read it with the location row
    (a booking's input), which saves reading it again; both are read before the booking locks.
    """
    version = version or _current_version(location_id)
    known = _LOADED.get(location_id)
    if known is not None and known.version == version:
        return known
    setup = _LOADED[location_id] = _load(location_id, version)
    return setup
