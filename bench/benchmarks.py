"""The benchmarks. Each measures the app through gunicorn and its physical baseline in the same run."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext

from backend.audit_chain import CHAIN_STATEMENTS
from bench.dataset import Dataset
from bench.harness import Result, interleaved, percentile, summarise
from bench.stack import Client
from scheduling.models import Appointment, Series

BLOCKING = ("scheduled", "confirmed", "checked_in", "in_progress", "completed")


@dataclass
class Settings:
    repeats: int
    warmup: int
    load_levels: tuple[int, ...]
    load_seconds: float
    peak_seconds: float


FULL = Settings(repeats=60, warmup=12, load_levels=(1, 2, 4, 8, 16), load_seconds=8, peak_seconds=30)
SMOKE = Settings(repeats=3, warmup=4, load_levels=(1, 2), load_seconds=1.5, peak_seconds=1.5)


def _patients(data: Dataset) -> itertools.cycle[Any]:
    """Patients with no existing bookings (the first half of the pool)."""
    return itertools.cycle(data.patients[: len(data.patients) // 2])


def _delete_series(series_ids: list[str]) -> None:
    if series_ids:
        series = Series.objects.filter(public_id__in=series_ids)
        Appointment.objects.filter(series__in=series).delete()
        series.delete()


# --- 1. series booking --------------------------------------------------------------------------------


def series_booking(client: Client, data: Dataset, settings: Settings) -> Result:
    patients = _patients(data)
    rng = random.Random(1)
    resources = {str(r.public_id): r.pk for r in data.location.resources.all()}
    staff = {str(s.public_id): s.pk for s in data.location.staff.all()}
    last: dict[str, Any] = {}

    def payload() -> dict[str, Any]:
        patient = next(patients)
        last["patient_pk"] = patient.pk
        return {
            "patient": str(patient.public_id), "service_type": str(data.service_type.public_id),
            "location": str(data.location.public_id), "first_date": data.first_monday.isoformat(), "count": 6,
            "time": f"{rng.choice([8, 9, 10, 11, 12, 13])}:{rng.choice(['00', '15', '30', '45'])}",
            "weekdays": [0, 2, 4], "min_gap_hours": 48, "max_per_week": 3, "within_days": 21,
            "accept_alternatives": True,
        }  # fmt: skip

    def via_http(_index: int) -> None:
        status, body = client.post("/api/v1/series/", payload())
        if status != 201:
            raise RuntimeError(f"series booking failed: {status} {body}")
        last["body"] = body

    def via_sql(_index: int) -> None:
        """Every row the booking writes, one INSERT each: the series, its visits and their staff, the change
        record and its two summary reminders (one transaction), then the audit event (as the middleware does)."""
        body, patient_pk = last["body"], last["patient_pk"]
        with connection.cursor() as cursor, connection.connection.transaction():
            cursor.execute(
                "INSERT INTO scheduling_series (public_id, patient_id, service_type_id, location_id, count, first_date,"
                " local_time, weekdays, min_gap_hours, max_per_week, within_days, cancel_reason, created_at) VALUES"
                " (gen_random_uuid(), %s, %s, %s, 6, %s, '09:00', '{0,2,4}', 48, 3, 21, '', now()) RETURNING id",
                [patient_pk, data.service_type.pk, data.location.pk, data.first_monday],
            )
            series_id = cursor.fetchone()[0]
            appointment_ids = []
            for visit in body["appointments"]:
                start = dt.datetime.fromisoformat(visit["start"])
                cursor.execute(
                    "INSERT INTO scheduling_appointment (public_id, patient_id, service_type_id, location_id,"
                    " resource_id, series_id, start, \"end\", hold_until, status, cancel_reason, cancelled_late,"
                    " calendar_sequence, created_at, updated_at) VALUES (gen_random_uuid(), %s, %s, %s, %s, %s, %s,"
                    " %s, %s, 'scheduled', '', false, 0, now(), now()) RETURNING id",
                    [patient_pk, data.service_type.pk, data.location.pk, resources[visit["resource"]], series_id,
                     start, start + dt.timedelta(minutes=40), start + dt.timedelta(minutes=100)],
                )  # fmt: skip
                appointment_id = cursor.fetchone()[0]
                appointment_ids.append(appointment_id)
                for member in visit["staff"]:
                    cursor.execute(
                        'INSERT INTO scheduling_appointmentstaff (appointment_id, staff_id, role, start, "end",'
                        " is_blocking) VALUES (%s, %s, %s, %s, %s, true)",
                        [appointment_id, staff[member["id"]], member["role"], start, start + dt.timedelta(minutes=40)],
                    )
            cursor.execute(
                "INSERT INTO scheduling_serieschange (series_id, kind, appointment_ids, details, actor_id, created_at)"
                " VALUES (%s, 'booked', %s, '{}', %s, now()) RETURNING id",
                [series_id, appointment_ids, data.user.pk],
            )
            change_id = cursor.fetchone()[0]
            for channel in ("email", "sms"):
                cursor.execute(
                    "INSERT INTO scheduling_reminder (public_id, kind, channel, recipient, due_at, status, attempts,"
                    " provider_id, last_error, created_at, updated_at, patient_id, series_change_id) VALUES"
                    " (gen_random_uuid(), 'series_summary', %s, '', now(), 'pending', 0, '', '', now(), now(), %s, %s)",
                    [channel, patient_pk, change_id],
                )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO backend_auditevent (at, actor_id, actor_username, roles, action, object_type, object_id,"
                " patient_id, ip, details) VALUES (now(), %s, %s, 'reception', 'create', 'series', %s, %s,"
                " '127.0.0.1', %s)",
                [data.user.pk, data.user.username, body["id"], body["patient"],
                 '{"status": 201, "path": "/api/v1/series/"}'],
            )  # fmt: skip
        last["sql_series"] = series_id

    def reset(_index: int) -> None:
        """Untimed: remove what the last run booked, so every run meets the same calendar."""
        if "sql_series" in last:
            series_id = last.pop("sql_series")
            Appointment.objects.filter(series_id=series_id).delete()
            Series.objects.filter(pk=series_id).delete()
        elif "body" in last and not last.get("deleted"):
            _delete_series([last["body"]["id"]])

    subject, baseline = interleaved(via_http, via_sql, repeats=settings.repeats, warmup=settings.warmup, between=reset)
    statements = booking_statement_count(data, payload())
    return summarise(
        "1. series booking (HTTP)", f"6 infusions, {len(resources)} chairs, {data.existing} existing bookings",
        subject, baseline, baseline_label="every row it writes, INSERTed in SQL",
        target=f"median < 30 ms, <= {MAX_BOOKING_STATEMENTS} statements",
        met=lambda median, _p95, _ratio: median < 30 and statements <= MAX_BOOKING_STATEMENTS,
        statements=statements,
    )  # fmt: skip


MAX_BOOKING_STATEMENTS = 12


def booking_statement_count(data: Dataset, payload: dict[str, Any]) -> int:
    """The statements one series booking runs from request to answer (transaction control aside), in process and signed
    in with the benchmark's token; the series is deleted again. The audit event the middleware writes after
    the answer (its lock, seal and insert) is not counted (tests/scheduling/test_series.py pins the same count)."""
    django_client = DjangoClient(HTTP_AUTHORIZATION=f"Token {data.token}")

    def book() -> str:
        response = django_client.post("/api/v1/series/", payload, content_type="application/json")
        if response.status_code != 201:
            raise RuntimeError(f"series booking failed: {response.status_code} {response.content[:300]!r}")
        return str(response.json()["id"])

    _delete_series([book()])  # as in the timed runs, this process now holds the location's setup
    with CaptureQueriesContext(connection) as captured:
        booked = book()
    _delete_series([booked])
    skipped = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", *CHAIN_STATEMENTS)  # transaction control, audit
    return len([query for query in captured.captured_queries if not query["sql"].startswith(skipped)])


# --- 3. availability -----------------------------------------------------------------------------------


def availability(client: Client, data: Dataset, settings: Settings) -> Result:
    start = dt.datetime.combine(data.first_monday, dt.time(0), tzinfo=data.location.zone)
    end = start + dt.timedelta(days=28)
    query = (
        f"/api/v1/availability/?location={data.location.public_id}&service_type={data.service_type.public_id}"
        f"&from={start.isoformat().replace('+', '%2B')}&to={end.isoformat().replace('+', '%2B')}"
    )
    slots: list[int] = []

    def via_http(_index: int) -> None:
        status, body = client.get(query)
        if status != 200:
            raise RuntimeError(f"availability failed: {status} {body}")
        slots.append(len(body))

    def via_sql(_index: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT resource_id, start, hold_until FROM scheduling_appointment WHERE location_id = %s"
                " AND status = ANY(%s) AND start < %s AND hold_until > %s",
                [data.location.pk, list(BLOCKING), end, start],
            )
            cursor.fetchall()

    subject, baseline = interleaved(via_http, via_sql, repeats=settings.repeats, warmup=settings.warmup)
    return summarise(
        "3. availability search (HTTP)", "4 weeks x 8 chairs x 4 staff", subject, baseline,
        baseline_label="one SQL query for the busy intervals", target="p95 < 30 ms",
        met=lambda _median, p95, _ratio: p95 < 30, slots_offered=slots[-1] if slots else None,
    )  # fmt: skip


# --- 4. list endpoints --------------------------------------------------------------------------------


APPOINTMENT_ROWS_SQL = (
    "SELECT a.public_id, p.public_id, p.first_name, p.last_name, st.public_id, st.name, l.public_id, l.timezone,"
    ' r.public_id, r.name, a.start, a."end", a.hold_until, a.status, a.cancel_reason, a.cancelled_late,'
    " a.cancelled_at, s.public_id, (SELECT json_agg(json_build_array(m.public_id, m.name, x.role))"
    " FROM scheduling_appointmentstaff x JOIN scheduling_staffmember m ON m.id = x.staff_id"
    " WHERE x.appointment_id = a.id) FROM scheduling_appointment a JOIN scheduling_patient p ON p.id = a.patient_id"
    " JOIN scheduling_servicetype st ON st.id = a.service_type_id JOIN scheduling_location l ON l.id = a.location_id"
    " JOIN scheduling_resource r ON r.id = a.resource_id LEFT JOIN scheduling_series s ON s.id = a.series_id"
    " WHERE a.location_id = %s ORDER BY a.start, a.id LIMIT %s"
)
PER_ROW_TARGET = 10  # an ORM row costs 6-8x a raw one; one more query per row adds about 20x
UNAUDITED_REQUEST = "/api/v1/locations/"  # token check, one small query, no patient data: no audit event


def appointment_list(client: Client, data: Dataset, settings: Settings) -> Result:
    return list_versus_raw(
        "4. appointment list (HTTP)", "page of 100", client, data, settings,
        page_of=f"/api/v1/appointments/?location={data.location.public_id}&page_size=",
        rows_sql=APPOINTMENT_ROWS_SQL,
    )  # fmt: skip


def list_versus_raw(
    name: str, workload: str, client: Client, data: Dataset, settings: Settings, *, page_of: str, rows_sql: str
) -> Result:
    """A list page over HTTP against the same rows read by one raw query (``rows_sql``, a ``LIMIT %s`` last),
    at 100 rows and at one.

    The target is per row: what the 99 rows after the first add over HTTP, at most ``PER_ROW_TARGET`` times what
    they add to the raw query, so a query per row or a slow field shows while the ORM's own price per row does
    not. The page of one is the request's fixed part (token, count, audit event, TCP connect), reported beside a
    request with only the token check; the whole page against the raw query is the ratio column
    (docs/performance.md, "Lists").
    """

    def page(size: int) -> Callable[[int], None]:
        def run(_index: int) -> None:
            status, body = client.get(f"{page_of}{size}")
            if status != 200 or len(body["results"]) != size:
                raise RuntimeError(f"{name} failed: {status}")

        return run

    def rows(limit: int) -> Callable[[int], None]:
        def run(_index: int) -> None:
            with connection.cursor() as cursor:
                cursor.execute(rows_sql, [data.location.pk, limit])
                cursor.fetchall()

        return run

    def unaudited(_index: int) -> None:
        status, _body = client.get(UNAUDITED_REQUEST)
        if status != 200:
            raise RuntimeError(f"{UNAUDITED_REQUEST} failed: {status}")

    hundred, raw_hundred = interleaved(page(100), rows(100), repeats=settings.repeats, warmup=settings.warmup)
    one, raw_one = interleaved(page(1), rows(1), repeats=settings.repeats, warmup=settings.warmup)
    floor, _none = interleaved(unaudited, None, repeats=settings.repeats, warmup=settings.warmup)
    timed = {"page_100": hundred, "page_1": one, "raw_100": raw_hundred, "raw_1": raw_one, "floor": floor}
    medians = {key: statistics.median(times) for key, times in timed.items()}
    per_row = (medians["page_100"] - medians["page_1"]) / max(medians["raw_100"] - medians["raw_1"], 1e-6)
    queries = {size: query_count(data, f"{page_of}{size}") for size in (10, 100)}
    result = summarise(
        name, workload, hundred, raw_hundred, baseline_label="same rows, one raw query",
        target=f"per row <= {PER_ROW_TARGET}x the raw query's, constant queries",
        met=lambda *_: per_row <= PER_ROW_TARGET and queries[10] == queries[100],
        queries_page_10=queries[10], queries_page_100=queries[100], per_row_ratio=round(per_row, 3),
        **{f"median_ms_{key}": round(value, 3) for key, value in medians.items()},
    )  # fmt: skip
    result.note = (
        f"per row {per_row:.2f}x the raw query; page of 1 {medians['page_1']:.1f} ms (an unaudited request "
        f"{medians['floor']:.1f} ms); ratio column is the whole page of 100"
    )
    return result


def query_count(data: Dataset, path: str) -> int:
    """How many queries the benchmark user's GET of ``path`` runs, signed in with its token as the timed runs are."""
    django_client = DjangoClient(HTTP_AUTHORIZATION=f"Token {data.token}")
    with CaptureQueriesContext(connection) as captured:
        django_client.get(path)
    return len(captured)


# --- 2. load --------------------------------------------------------------------------------------------


def load(port: int, data: Dataset, settings: Settings) -> tuple[Result, list[dict[str, Any]]]:
    levels = []
    for clients in settings.load_levels:
        seconds = settings.peak_seconds if clients == max(settings.load_levels) else settings.load_seconds
        levels.append(_load_level(port, data, clients, seconds))
    overlaps = _overlaps()
    peak = levels[-1]
    result = Result(
        name="2. concurrent booking load", workload=f"{peak['clients']} clients x {peak['seconds']} s, 75% search / "
        "25% series", median_ms=peak["p50_ms"], p95_ms=peak["p95_ms"], target="0 overlaps, 0 5xx",
        met=overlaps == 0 and all(level["5xx"] == 0 for level in levels),
        extra={"levels": levels, "overlapping_active_bookings": overlaps, "throughput_rps": peak["throughput_rps"],
               "p99_ms": peak["p99_ms"]},
        note=f"{peak['throughput_rps']} req/s, p99 {peak['p99_ms']} ms, {overlaps} overlaps",
    )  # fmt: skip
    return result, levels


def _load_level(port: int, data: Dataset, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    created: list[str] = []
    lock = threading.Lock()
    pool = data.patients[: len(data.patients) // 2]
    zone = data.location.zone
    deadline = time.monotonic() + seconds

    def run(worker: int) -> None:
        rng = random.Random(worker * 7919 + clients)
        client = Client(port, data.token)
        while time.monotonic() < deadline:
            day = data.first_monday + dt.timedelta(days=rng.randrange(0, 56))
            if rng.random() < 0.75:
                start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
                end = start + dt.timedelta(days=7)
                path = (f"/api/v1/availability/?location={data.location.public_id}&service_type="
                        f"{data.service_type.public_id}&from={start.isoformat().replace('+', '%2B')}"
                        f"&to={end.isoformat().replace('+', '%2B')}")  # fmt: skip
                began = time.perf_counter()
                status, body = client.get(path)
            else:
                payload = {
                    "patient": str(rng.choice(pool).public_id), "service_type": str(data.service_type.public_id),
                    "location": str(data.location.public_id), "first_date": day.isoformat(), "count": 3,
                    "time": f"{rng.choice([8, 9, 10, 11, 12, 13, 14])}:00", "min_gap_hours": 48,
                    "accept_alternatives": True,
                }  # fmt: skip
                began = time.perf_counter()
                status, body = client.post("/api/v1/series/", payload)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1
                if status == 201:
                    created.append(body["id"])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duration = time.monotonic() - started
    overlaps = _overlaps()
    _delete_series(created)
    return {
        "clients": clients, "seconds": round(duration, 1), "requests": len(latencies),
        "throughput_rps": round(len(latencies) / duration, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "5xx": sum(count for code, count in statuses.items() if code >= 500), "overlaps": overlaps,
    }  # fmt: skip


def _overlaps() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM scheduling_appointment a JOIN scheduling_appointment b ON a.id < b.id"
            " AND (a.resource_id = b.resource_id OR a.patient_id = b.patient_id)"
            " AND tstzrange(a.start, a.hold_until) && tstzrange(b.start, b.hold_until)"
            " WHERE a.status = ANY(%s) AND b.status = ANY(%s))"
            " + (SELECT count(*) FROM scheduling_appointmentstaff a JOIN scheduling_appointmentstaff b"
            " ON a.id < b.id AND a.staff_id = b.staff_id"
            " AND tstzrange(a.start, a.\"end\") && tstzrange(b.start, b.\"end\")"
            " WHERE a.is_blocking AND b.is_blocking)",
            [list(BLOCKING), list(BLOCKING)],
        )  # fmt: skip
        return int(cursor.fetchone()[0])
