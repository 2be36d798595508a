"""Run a command, and start it again whenever it stops, for ``make run``'s worker and beat.

``python -m backend.keepalive NAME -- COMMAND...``. Honcho stops the whole stack
when one of its processes exits; a worker killed by the kernel or a beat that
crashed should not take the web server down with it. Each restart is a line in
the log; the pause before it doubles from 1 to 30 seconds while the command
keeps failing at once, and starts again at 1 second after a run of a minute or
more. SIGINT and SIGTERM are passed on to the command and end the loop.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

STEADY_SECONDS = 60
LONGEST_PAUSE = 30


def keep_alive(name: str, command: list[str]) -> int:
    child: subprocess.Popen[bytes] | None = None
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    pause = 1
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command)  # noqa: S603 - make run's own command line
        code = child.wait()
        if stopping:
            return code
        if time.monotonic() - started >= STEADY_SECONDS:
            pause = 1
        print(f"keepalive: {name} stopped with exit code {code}; starting it again in {pause} s", flush=True)
        time.sleep(pause)
        if stopping:
            return code
        pause = min(pause * 2, LONGEST_PAUSE)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m backend.keepalive NAME -- COMMAND...", file=sys.stderr)
        return 2
    return keep_alive(argv[0], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
