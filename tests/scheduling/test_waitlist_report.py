"""The refill figure: freed chair hours, the share the waitlist booked again, the median minutes to fill."""

from __future__ import annotations

import csv
import datetime as dt
import io

import time_machine

from scheduling.models import WaitlistOffer
from scheduling.services.waitlist import slots_offer, waitlist_offer_claim
from tests.scheduling.conftest import NOW, Clinic, ny
from tests.scheduling.test_waitlist import freed_at, waiting

URL = "/api/v1/reports/waitlist/"


def free_and_claim(clinic: Clinic, start: dt.datetime, *, at: dt.datetime, claimed_after: int | None) -> None:
    with time_machine.travel(at, tick=False):
        freed_at(clinic, start)
        slots_offer()
    if claimed_after is not None:
        offer = WaitlistOffer.objects.filter(slot__start=start).first()
        assert offer is not None
        with time_machine.travel(at + dt.timedelta(minutes=claimed_after), tick=False):
            assert waitlist_offer_claim(offer=offer).status == "claimed"


def test_the_figure_matches_a_hand_computation(clinic: Clinic) -> None:
    waiting(clinic, 2)
    free_and_claim(clinic, ny(dt.date(2026, 10, 5), 9), at=NOW, claimed_after=20)
    free_and_claim(clinic, ny(dt.date(2026, 10, 6), 9), at=NOW + dt.timedelta(hours=1), claimed_after=28)
    free_and_claim(clinic, ny(dt.date(2026, 10, 7), 9), at=NOW + dt.timedelta(hours=2), claimed_after=None)
    hold_hours = (clinic.infusion.duration_minutes + clinic.infusion.recovery_minutes) / 60

    response = clinic.client(clinic.reception).get(URL, {"from": "2026-10-01", "to": "2026-10-31"})
    assert response.status_code == 200
    (row,) = response.json()["rows"]
    assert row == {
        "month": "2026-10", "location": "Boston", "kind": "chair", "freed": 3,
        "freed_hours": f"{3 * hold_hours:.1f}", "refilled": 2, "refilled_hours": f"{2 * hold_hours:.1f}",
        "refilled_share": "67%", "median_minutes_to_fill": 24,
    }  # fmt: skip

    as_csv = clinic.client(clinic.reception).get(URL, {"from": "2026-10-01", "to": "2026-10-31", "format": "csv"})
    (line,) = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert (line["refilled_share"], line["median_minutes_to_fill"]) == ("67%", "24")
    assert clinic.client(clinic.reception).get(URL, {"from": "2026-11-01", "to": "2026-11-30"}).json()["rows"] == []


def test_a_range_that_ends_before_it_starts_is_a_400(clinic: Clinic) -> None:
    response = clinic.client(clinic.reception).get(URL, {"from": "2026-10-31", "to": "2026-10-01"})
    assert response.status_code == 400
    assert "to" in response.json()["errors"]
