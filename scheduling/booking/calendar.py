"""A location's calendar for a time window: when it is open, who works, what is taken.

Loaded with a fixed number of queries, then answered in memory. Availability
search and booking both ask it, so what availability offers is what booking
accepts. The exclusion constraints remain the guarantee against races.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduling.booking.busy import PATIENT, RESOURCE, STAFF, busy_rows
from scheduling.booking.location_setup import LocationSetup, location_setup
from scheduling.models import (
    Location,
    Resource,
    ServiceType,
    StaffMember,
)
from scheduling.time import Interval, covers, grid_starts, local_date

# Longest hold we look back for when loading busy intervals that reach into the window.
LOOKBACK = timedelta(hours=24)
LOOKBACK_SECONDS = LOOKBACK.total_seconds()


@dataclass
class BusyIntervals:
    """Sorted, non-overlapping ``[start, end)`` intervals (epoch seconds) with the appointment that holds each."""

    starts: list[float] = field(default_factory=list)
    items: list[tuple[float, float, int | None]] = field(default_factory=list)

    def add(self, start: datetime, end: datetime, appointment_id: int | None) -> None:
        low = start.timestamp()
        index = bisect.bisect_left(self.starts, low)
        self.starts.insert(index, low)
        self.items.insert(index, (low, end.timestamp(), appointment_id))

    def append_sorted(self, low: float, high: float, appointment_id: int | None) -> None:
        """Add an interval that starts no earlier than every one already here (loading in start order)."""
        self.starts.append(low)
        self.items.append((low, high, appointment_id))

    def overlapping(self, start: datetime, end: datetime) -> list[int | None]:
        """Ids of the appointments overlapping ``[start, end)`` (None for in-memory holds)."""
        low_q, high_q = start.timestamp(), end.timestamp()
        found: list[int | None] = []
        index = bisect.bisect_left(self.starts, high_q) - 1
        horizon = low_q - LOOKBACK_SECONDS
        while index >= 0:
            low, high, appointment_id = self.items[index]
            if high <= low_q and low < horizon:
                break
            if low < high_q and low_q < high:
                found.append(appointment_id)
            index -= 1
        return found

    def is_free(self, start: datetime, end: datetime) -> bool:
        """Like ``not overlapping(...)``, stopping at the first answer (the hot path of availability)."""
        low_q = start.timestamp()
        index = bisect.bisect_left(self.starts, end.timestamp()) - 1
        horizon = low_q - LOOKBACK_SECONDS
        items = self.items
        while index >= 0:
            low, high, _ = items[index]
            if low_q < high:
                return False
            if low < horizon:
                return True
            index -= 1
        return True


@dataclass(frozen=True)
class Placement:
    """A bookable combination: times, a resource and one staff member per required role."""

    start: datetime
    end: datetime
    hold_until: datetime
    resource: Resource
    staff: tuple[tuple[StaffMember, str], ...]


class LocationCalendar:
    def __init__(
        self,
        location: Location,
        window_start: datetime,
        window_end: datetime,
        *,
        ignore_appointment_ids: Iterable[int] = (),
        patient_ids: Iterable[int] = (),
        setup: LocationSetup | None = None,
    ) -> None:
        """Load the calendar; ``patient_ids`` are the patients whose holds to load with the rest.

        ``setup`` is the location's current setup when the caller already has it (see location_setup).
        """
        self.location = location
        self.zone = location.zone
        self.window_start = window_start
        self.window_end = window_end
        self.ignored = set(ignore_appointment_ids)
        setup = setup or location_setup(location.pk)
        first, last = local_date(window_start - LOOKBACK, self.zone), local_date(window_end + LOOKBACK, self.zone)
        self.open_intervals = setup.intervals(None, self.zone, first, last)
        self.resources: list[Resource] = list(setup.resources)
        self._resources_by_kind: dict[str, list[tuple[int, Resource]]] = defaultdict(list)
        for resource in self.resources:
            self._resources_by_kind[resource.kind].append((resource.pk, resource))
        self.staff: list[StaffMember] = list(setup.staff)
        self._staff_by_role: dict[str, list[tuple[int, StaffMember]]] = defaultdict(list)
        for member in self.staff:
            for role in member.roles:
                self._staff_by_role[role].append((member.pk, member))
        self.shift_intervals: dict[int, list[Interval]] = {
            member.pk: setup.intervals(member.pk, self.zone, first, last) for member in self.staff
        }
        self.resource_busy: dict[int, BusyIntervals] = defaultdict(BusyIntervals)
        self.staff_busy: dict[int, BusyIntervals] = defaultdict(BusyIntervals)
        self.patient_busy: dict[int, BusyIntervals] = {}
        self._slot_cache: dict[timedelta, tuple[list[datetime], list[tuple[int, int]]]] = {}
        self._load_busy(patient_ids)

    def _load_busy(self, patient_ids: Iterable[int]) -> None:
        """Busy time of the chairs, the staff and the given patients, in one query (start order)."""
        patients = sorted(set(patient_ids))
        rows = busy_rows(
            location_id=self.location.pk,
            staff_ids=[member.pk for member in self.staff],
            patient_ids=patients,
            since=self.window_start - LOOKBACK,
            until=self.window_end + LOOKBACK,
        )
        for patient_id in patients:
            self.patient_busy[patient_id] = BusyIntervals()  # loaded, even when free
        busy = {RESOURCE: self.resource_busy, STAFF: self.staff_busy, PATIENT: self.patient_busy}
        ignored = self.ignored
        for kind, owner, appointment_id, low, high in rows:  # in start order: append_sorted, inlined (hot)
            if appointment_id not in ignored:
                intervals = busy[kind][owner]
                intervals.starts.append(low)
                intervals.items.append((low, high, appointment_id))

    def load_patient(self, patient_id: int) -> BusyIntervals:
        """The patient's holds anywhere (all locations), loaded once."""
        if patient_id not in self.patient_busy:
            busy = self.patient_busy[patient_id] = BusyIntervals()
            rows = busy_rows(
                location_id=None, staff_ids=[], patient_ids=[patient_id],
                since=self.window_start - LOOKBACK, until=self.window_end + LOOKBACK,
            )  # fmt: skip
            for _kind, _owner, appointment_id, low, high in rows:
                if appointment_id not in self.ignored:
                    busy.append_sorted(low, high, appointment_id)
        return self.patient_busy[patient_id]

    # --- questions -------------------------------------------------------------------

    def is_open(self, start: datetime, hold_until: datetime) -> bool:
        return covers(self.open_intervals, start, hold_until)

    def on_shift(self, member: StaffMember, start: datetime, end: datetime) -> bool:
        return covers(self.shift_intervals.get(member.pk, []), start, end)

    def free_resources(self, kind: str, start: datetime, hold_until: datetime) -> list[Resource]:
        busy = self.resource_busy
        return [resource for pk, resource in self._resources_by_kind[kind] if busy[pk].is_free(start, hold_until)]

    def first_free_resource(
        self, kind: str, start: datetime, hold_until: datetime, only: Resource | None = None
    ) -> Resource | None:
        busy = self.resource_busy
        for pk, resource in self._resources_by_kind[kind]:
            if (only is None or pk == only.pk) and busy[pk].is_free(start, hold_until):
                return resource
        return None

    def staff_candidates(self, role: str, start: datetime, end: datetime) -> list[StaffMember]:
        """Staff holding ``role``, on shift here for ``[start, end)`` and free then."""
        shifts, busy = self.shift_intervals, self.staff_busy
        return [
            member
            for pk, member in self._staff_by_role[role]
            if covers(shifts.get(pk, []), start, end) and busy[pk].is_free(start, end)
        ]

    def assign_staff(
        self, roles: Sequence[str], start: datetime, end: datetime, *, preferred: Sequence[StaffMember] = ()
    ) -> tuple[tuple[StaffMember, str], ...] | None:
        """One distinct free staff member per role (preferred people first), or None."""
        candidates = []
        preferred_ids = [member.pk for member in preferred]
        for role in roles:
            people = self.staff_candidates(role, start, end)
            if not people:
                return None
            people.sort(key=lambda m: preferred_ids.index(m.pk) if m.pk in preferred_ids else len(preferred_ids))
            candidates.append(people)
        chosen: list[StaffMember] = []

        def search(index: int) -> bool:
            if index == len(roles):
                return True
            for member in candidates[index]:
                if member not in chosen:
                    chosen.append(member)
                    if search(index + 1):
                        return True
                    chosen.pop()
            return False

        if not search(0):
            return None
        return tuple(zip(chosen, roles, strict=True))

    def placement(
        self,
        service_type: ServiceType,
        start: datetime,
        *,
        patient_id: int | None = None,
        resource: Resource | None = None,
        staff: Sequence[StaffMember] = (),
    ) -> Placement | None:
        """A full placement at ``start``, or None when anything is missing or taken."""
        end = start + timedelta(minutes=service_type.duration_minutes)
        hold_until = end + timedelta(minutes=service_type.recovery_minutes)
        if not self.is_open(start, hold_until):
            return None
        if patient_id is not None and not self.load_patient(patient_id).is_free(start, hold_until):
            return None
        chosen = self.first_free_resource(service_type.resource_kind, start, hold_until, only=resource)
        if chosen is None:
            return None
        team = self.assign_staff(service_type.staff_roles, start, end, preferred=staff)
        if team is None:
            return None
        return Placement(start=start, end=end, hold_until=hold_until, resource=chosen, staff=team)

    def hold(self, placement: Placement, patient_id: int) -> None:
        """Mark a placement as taken in memory (for placing several occurrences in one pass)."""
        self.resource_busy[placement.resource.pk].add(placement.start, placement.hold_until, None)
        self.load_patient(patient_id).add(placement.start, placement.hold_until, None)
        for member, _role in placement.staff:
            self.staff_busy[member.pk].add(placement.start, placement.end, None)

    def slot_starts(self, duration: timedelta) -> list[datetime]:
        """Candidate starts on the location's grid inside opening hours and the window (computed once)."""
        return self._slots(duration)[0]

    def slot_local_days(self, duration: timedelta) -> list[tuple[int, int]]:
        """For each of ``slot_starts(duration)``: its local date's ordinal and local minute of the day."""
        return self._slots(duration)[1]

    def _slots(self, duration: timedelta) -> tuple[list[datetime], list[tuple[int, int]]]:
        if duration not in self._slot_cache:
            self._slot_cache[duration] = self._compute_slots(duration)
        return self._slot_cache[duration]

    def _compute_slots(self, duration: timedelta) -> tuple[list[datetime], list[tuple[int, int]]]:
        return grid_starts(
            self.open_intervals, window_start=self.window_start, window_end=self.window_end,
            step_minutes=self.location.slot_minutes, duration=duration, zone=self.zone,
        )  # fmt: skip
