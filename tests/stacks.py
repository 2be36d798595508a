"""`make run` stacks in throwaway checkouts, for integration tests of the local stack itself.

Each checkout is a copy of this tree under var/test-stacks/ (the embedded PostgreSQL, which runs as its own
system user under root, must be able to reach it) with its own embedded PostgreSQL and Redis.
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
import time
import urllib.request
from pathlib import Path

import psutil

from backend.embedded import PROJECT_ROOT, free_port

# What a fresh shell has: the test run's own services and settings are not passed on.
NOT_INHERITED = {"DATABASE_URL", "REDIS_URL", "EMAIL_PORT", "PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN", "PORT", "DEBUG",
                 "DJANGO_SETTINGS_MODULE", "MAIL_DIR", "MEDIA_ROOT", "VAR_DIR", "DB_CONN_MAX_AGE",
                 "DB_APPLICATION_NAME"}  # fmt: skip


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
    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = env or {}
        self.port = free_port()
        self.log = root / "make-run.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Stack:
        env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
        env["PORT"] = str(self.port)
        env.update(self.env)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "backend.devstack"], cwd=self.root, env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return self

    def wait_until_answering(self, timeout: float = 300) -> None:
        """Until /healthz answers; failing, with the end of the stack's log, once `make run` exits or time is up."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.health() is None:
            code = self.process.poll()
            if code is not None or time.monotonic() > deadline:
                log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else "(no log)"
                what = f"exited with {code}" if code is not None else f"did not answer within {timeout:.0f} s"
                raise AssertionError(f"the stack {what}; its log ends:\n{log}")
            time.sleep(1)

    def health(self) -> dict[str, str] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as answer:
                return dict(json.loads(answer.read()))
        except OSError:
            return None

    def database_url(self) -> str:
        """The URL of this checkout's embedded database (its servers are running while the stack is)."""
        env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
        exports = subprocess.run([sys.executable, "-m", "backend.embedded", "env"], cwd=self.root, env=env,
                                 capture_output=True, check=True, text=True, timeout=60).stdout  # fmt: skip
        match = re.search(r"DATABASE_URL=(\S+)", exports)
        assert match is not None, exports
        return match[1].strip("'\"")

    def processes(self, *words: str) -> list[psutil.Process]:
        """The stack's processes whose command line holds every one of ``words``."""
        assert self.process is not None
        family = psutil.Process(self.process.pid).children(recursive=True)
        return [child for child in family if all(word in " ".join(child.cmdline()) for word in words)]

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
