"""Two `make run` stacks from two checkouts on one machine: both answer, and each one's links open on its own port.

The second is started while the first runs, as a person would (tests/stacks.py).
"""

from __future__ import annotations

import shutil
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from backend.embedded import PROJECT_ROOT
from tests.processes import wait_for
from tests.stacks import Stack, checkout

pytestmark = pytest.mark.integration


@pytest.fixture
def two_checkouts() -> Iterator[tuple[Stack, Stack]]:
    base = PROJECT_ROOT / "var" / "test-stacks" / uuid.uuid4().hex[:8]
    stacks = (Stack(checkout(base / "first")), Stack(checkout(base / "second")))
    try:
        yield stacks
    finally:
        for stack in stacks:
            stack.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_two_checkouts_run_side_by_side_and_each_ones_links_open_on_its_own_port(
    two_checkouts: tuple[Stack, Stack],
) -> None:
    first, second = two_checkouts

    first.start()
    first.wait_until_answering()
    second.start()
    second.wait_until_answering()

    assert first.health() == second.health() == {"database": "ok", "broker": "ok"}, second.log.read_text()[-3000:]
    # The demo's series summary is mailed within a minute; its links point at the second stack's own port.
    wait_for(second.links_in_mail, timeout=180, interval=2)
    links = second.links_in_mail()
    assert all(link.startswith(f"http://127.0.0.1:{second.port}/r/") for link in links), links
    with urllib.request.urlopen(links[0], timeout=5) as page:  # noqa: S310 - loopback
        assert page.status == 200
