"""8. The day board: a full day of 8 chairs and 4 nurses, rendered server-side as reception's browser polls it.

Timed in process with Django's test client (the board's own fragment, as its htmx poll asks for it),
beside the API's appointment list of the same day read the same way; the ratio says what the board's
layout and HTML cost over the data it shows.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext

from bench.benchmarks import Settings
from bench.dataset import WEEKS, Dataset, fill_day
from bench.harness import Result, interleaved, summarise

FAR_WEEKS = 20  # a Monday this many weeks after the dataset's first: no other benchmark books there


def _queries(client: DjangoClient, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return len(captured)


def day_board(data: Dataset, settings: Settings) -> Result:
    day = data.first_monday + dt.timedelta(weeks=max(FAR_WEEKS, WEEKS + 1))
    visits = fill_day(data, day)
    board = DjangoClient()
    board.force_login(data.user)
    api = DjangoClient(HTTP_AUTHORIZATION=f"Token {data.token}")
    location = data.location.public_id
    board_path = f"/console/day/?location={location}&date={day:%Y-%m-%d}&partial=board"
    list_path = f"/api/v1/appointments/?location={location}&date={day:%Y-%m-%d}&page_size=100"

    def render_board(_index: int) -> None:
        response = board.get(board_path)
        if response.status_code != 200 or response.content.count(b'class="visit status-') < visits:
            raise RuntimeError(f"board failed: {response.status_code}")

    def read_list(_index: int) -> None:
        response = api.get(list_path)
        if response.status_code != 200 or len(response.json()["results"]) != visits:
            raise RuntimeError(f"list failed: {response.status_code}")

    subject, baseline = interleaved(render_board, read_list, repeats=settings.repeats, warmup=settings.warmup)
    half_day = f"/console/day/?location={location}&date={data.first_monday:%Y-%m-%d}&partial=board"
    queries_full, queries_half = _queries(board, board_path), _queries(board, half_day)
    return summarise(
        "8. day board (server-side)", f"8 chairs, 4 nurses, {visits} visits", subject, baseline,
        baseline_label="the API's appointment list of the same day", target="median < 50 ms, constant queries",
        met=lambda median, _p95, _ratio: median < 50 and queries_full == queries_half,
        queries_full_day=queries_full, queries_half_full_day=queries_half,
    )  # fmt: skip
