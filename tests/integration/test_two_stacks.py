"""Two `make run` stacks from two checkouts on one machine: both answer, and each one's links open on its own port.

Each checkout is a copy of this tree under var/test-stacks/ (the embedded PostgreSQL, which runs as its own
system user under root, must be able to reach it) with its own embedded PostgreSQL and Redis; the second
is started while the first runs, as a person would.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.embedded import PROJECT_ROOT, free_port
from tests.processes import wait_for

pytestmark = pytest.mark.integration
# What a fresh shell has: the test run's own services and settings are not passed on.
NOT_INHERITED = {"DATABASE_URL", "REDIS_URL", "EMAIL_PORT", "PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN", "PORT", "DEBUG",
                 "DJANGO_SETTINGS_MODULE", "MAIL_DIR", "MEDIA_ROOT", "VAR_DIR"}  # fmt: skip


def checkout(destination: Path) -> Path:
    """The project's files as a clone would have them (tracked and new, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


class Stack:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.log = root / "make-run.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Stack:
        env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
        env["PORT"] = str(self.port)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "backend.devstack"], cwd=self.root, env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return self

    def health(self) -> dict[str, str] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                return dict(json.loads(answer.read()))
        except OSError:
            return None

    def links_in_mail(self) -> list[str]:
        """The patient links (``/r/...``) in the plain-text part of every message the stack's mail sink stored."""
        links = []
        for path in sorted((self.root / "var" / "mail").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(preferencelist=("plain",))
            links += re.findall(r"https?://\S+/r/\S+", body.get_content() if body is not None else "")
        return links

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C: honcho stops every process
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        subprocess.run([sys.executable, "-m", "backend.embedded", "stop"], cwd=self.root, check=False,
                       capture_output=True, timeout=60)  # fmt: skip


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
    wait_for(lambda: first.health() is not None, timeout=300, interval=1)
    second.start()
    wait_for(lambda: second.health() is not None, timeout=300, interval=1)

    assert first.health() == second.health() == {"database": "ok", "broker": "ok"}, second.log.read_text()[-3000:]
    # The demo's series summary is mailed within a minute; its links point at the second stack's own port.
    wait_for(second.links_in_mail, timeout=180, interval=2)
    links = second.links_in_mail()
    assert all(link.startswith(f"http://127.0.0.1:{second.port}/r/") for link in links), links
    with urllib.request.urlopen(links[0], timeout=5) as page:  # noqa: S310 - loopback
        assert page.status == 200
