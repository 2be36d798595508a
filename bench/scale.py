"""The hot paths at each data size (``make bench SCALE=S|M|L|all``): median and p95 per size, growth L/S.

Each path is the request (or worker step) a person waits for, run in process through Django's test client,
signed in as the role that uses it, on the benchmark clinic; only the history around it changes from size to
size (bench/history.py). A path whose time grows with history is a defect, unless its work grows too: the
export of a month writes that month's lines, and there are more of them at a location with more chairs busy.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import itertools
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from backend.models import User
from bench.dataset import Dataset
from bench.harness import RESULTS, machine, percentile
from bench.history import SIZES, Size, grow
from billing.exports.queries import export_query
from billing.exports.writers import request_cursor, write_export
from scheduling.models import Appointment, Reminder, Series
from worker.reminders import reminders_dispatch

CHART = Path(__file__).resolve().parent.parent / "docs" / "performance-scale.png"
GROWTH_LIMIT = 1.5  # L/S, for every path but the export


def run(data: Dataset, sizes: list[str], *, repeats: int, warmup: int) -> dict[str, Any]:
    paths = _hot_paths(data)
    rows: list[dict[str, Any]] = []
    builds: dict[str, dict[str, float]] = {}
    for name in sizes:
        print(f"growing the history to size {name} ...", flush=True)
        builds[name] = grow(data, SIZES[name])
        gc.freeze()  # as the web process does once loaded (backend/wsgi.py)
        for path, (measure, reset) in paths.items():
            times = _times(measure, reset, repeats=repeats, warmup=warmup)
            rows.append({"size": name, "path": path, "median_ms": round(statistics.median(times), 2),
                         "p95_ms": round(percentile(times, 0.95), 2)})  # fmt: skip
            print(f"  {name} {path:<34} median {rows[-1]['median_ms']:>8} ms  p95 {rows[-1]['p95_ms']:>8} ms")
    result = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
        "sizes": {name: _describe(SIZES[name]) for name in sizes}, "build_seconds": builds,
        "repeats": repeats, "results": rows, "growth": _growth(rows, sizes),
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"scale-{'-'.join(sizes)}.json"
    target.write_text(json.dumps(result, indent=2) + "\n")
    if len(sizes) > 1:
        chart(rows, sizes)
    print(f"\nwritten to {target}")
    return result


def _describe(size: Size) -> dict[str, int]:
    return {key: value for key, value in vars(size).items() if key != "name"}


def _growth(rows: list[dict[str, Any]], sizes: list[str]) -> dict[str, float]:
    """Median at the largest size over the median at the smallest, per path."""
    if len(sizes) < 2:
        return {}
    first, last = sizes[0], sizes[-1]
    median = {(row["size"], row["path"]): row["median_ms"] for row in rows}
    return {path: round(median[(last, path)] / median[(first, path)], 2)
            for (size, path) in median if size == first}  # fmt: skip


def _times(measure: Callable[[], None], reset: Callable[[], None] | None, *, repeats: int, warmup: int) -> list[float]:
    times = []
    for index in range(warmup + repeats):
        started = time.perf_counter()
        measure()
        elapsed = (time.perf_counter() - started) * 1000
        if reset is not None:
            reset()
        if index >= warmup:
            times.append(elapsed)
    return times


def _user(role: str, data: Dataset) -> User:
    user, _ = User.objects.get_or_create(username=f"bench-{role}")
    user.groups.add(Group.objects.get(name=role))
    data.location.group.members.add(user)
    return user


def _api(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


def _ok(response: Any) -> None:
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")


def _hot_paths(data: Dataset) -> dict[str, tuple[Callable[[], None], Callable[[], None] | None]]:
    reception, admin, accountant = _api(data.user), _api(_user("admin", data)), _api(_user("accountant", data))
    board = Client()
    board.force_login(data.user)
    location, zone = data.location, data.location.zone
    monday = data.first_monday
    week = dt.datetime.combine(monday, dt.time(0), tzinfo=zone)
    month_ago = timezone.localdate() - dt.timedelta(days=31)
    month = (month_ago.replace(day=1), (month_ago.replace(day=1) + dt.timedelta(days=32)).replace(day=1))
    patients = itertools.cycle(data.patients[: len(data.patients) // 2])
    booked: list[str] = []

    def book() -> None:
        response = reception.post("/api/v1/series/", {
            "patient": str(next(patients).public_id), "service_type": str(data.service_type.public_id),
            "location": str(location.public_id), "first_date": monday.isoformat(), "count": 6, "time": "10:00",
            "weekdays": [0, 2, 4], "min_gap_hours": 48, "max_per_week": 3, "within_days": 21,
            "accept_alternatives": True,
        }, content_type="application/json")  # fmt: skip
        _ok(response)
        booked.append(response.json()["id"])

    def unbook() -> None:
        series = Series.objects.filter(public_id__in=booked)
        Appointment.objects.filter(series__in=series).delete()
        series.delete()
        booked.clear()

    def due_reminders() -> None:
        """Ten email reminders due now, for visits of the benchmark's calendar (untimed)."""
        Reminder.objects.filter(status__in=["pending", "queued"]).delete()
        visits = Appointment.objects.filter(location=location, start__gte=week).order_by("id")[:10]
        Reminder.objects.bulk_create(
            Reminder(kind="visit", channel="email", due_at=timezone.now() - dt.timedelta(minutes=1),
                     patient_id=visit.patient_id, appointment=visit, offset_hours=24, visit_start=visit.start)
            for visit in visits
        )  # fmt: skip

    def export_month() -> None:
        query = export_query(kind="invoice_lines", format="csv", date_from=month[0],
                             date_to=month[1] - dt.timedelta(days=1), location_ids=[location.pk])  # fmt: skip
        with request_cursor() as cursor:
            write_export(io.BytesIO(), cursor, query, format="csv", bom=False, on_progress=lambda rows: None)

    due_reminders()
    return {
        "series booking": (book, unbook),
        "availability search (4 weeks)": (lambda: _ok(reception.get("/api/v1/availability/", {
            "location": str(location.public_id), "service_type": str(data.service_type.public_id),
            "from": week.isoformat(), "to": (week + dt.timedelta(days=28)).isoformat()})), None),
        "appointment list for a day": (lambda: _ok(reception.get("/api/v1/appointments/", {
            "location": str(location.public_id), "date": monday.isoformat()})), None),
        "invoice list (a month)": (lambda: _ok(accountant.get("/api/v1/invoices/", {
            "location": str(location.public_id), "issued_from": f"{month[0]}T00:00:00Z",
            "issued_to": f"{month[1]}T00:00:00Z"})), None),
        "a patient's access log": (lambda: _ok(admin.get(f"/api/v1/patients/{data.patients[0].public_id}/access-log/")),
                                   None),
        "day board": (lambda: _ok(board.get("/console/day/", {"location": str(location.public_id),
                                                              "date": monday.isoformat()})), None),
        "AR aging (the location)": (lambda: _ok(accountant.get("/api/v1/reports/ar-aging/", {
            "location": str(location.public_id)})), None),
        "reminder claim (10 due)": (_claim, due_reminders),
        "invoice-line export (a month)": (export_month, None),
    }  # fmt: skip


def _claim() -> None:
    reminders_dispatch(enqueue=lambda ids: None)


def chart(rows: list[dict[str, Any]], sizes: list[str], target: Path = CHART) -> Path:
    """Median latency against data size, one line per hot path (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    figure, axis = plt.subplots(figsize=(10, 4.6), dpi=110)
    for path in dict.fromkeys(row["path"] for row in rows):
        medians = [next(r["median_ms"] for r in rows if r["path"] == path and r["size"] == size) for size in sizes]
        axis.plot(sizes, medians, marker="o", label=path)
    axis.set_yscale("log")
    axis.yaxis.set_major_locator(FixedLocator([1, 2, 5, 10, 20, 50, 100, 200]))
    axis.yaxis.set_major_formatter(ScalarFormatter())
    axis.yaxis.set_minor_formatter(NullFormatter())
    axis.set_xlabel("data size (S: one clinic, M: 10 locations / 500k visits, L: 20 locations / 2M visits)")
    axis.set_ylabel("median latency (ms, log scale)")
    axis.set_title("Hot paths against the size of the history")
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(target)
    plt.close(figure)
    return target
