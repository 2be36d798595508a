"""A local SMTP sink (aiosmtpd) that stores every message it receives as a ``.eml`` file.

    python -m backend.mailsink --port 1025 --directory var/mail

Open the files with any mail client, or read them as text. Only for local runs and tests.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import os
import time
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

_counter = itertools.count()


class StoringHandler:
    """Stores each message once per Message-ID, as providers that honour idempotency keys do.

    Every reception, duplicates included, is also logged to ``received.log`` (one Message-ID a line).
    """

    def __init__(self, directory: Path, delay: float = 0.0) -> None:
        self.directory = directory
        self.delay = delay  # seconds to hold each message, as a slow provider would (tests)
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            await asyncio.sleep(self.delay)
        content = envelope.original_content or b""
        message_id = BytesParser().parsebytes(content, headersonly=True).get("Message-ID", "").strip()
        with (self.directory / "received.log").open("a", encoding="utf-8") as log:
            log.write(f"{message_id or '-'}\n")
        if message_id:
            name = hashlib.sha256(message_id.encode()).hexdigest()[:32] + ".eml"
            if (self.directory / name).exists():
                return "250 Already accepted (same Message-ID)"
        else:
            name = f"{time.time_ns()}-{os.getpid()}-{next(_counter)}.eml"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(content)
        temporary.rename(self.directory / name)  # readers never see half a message
        return "250 Message accepted for delivery"


def start_sink(directory: Path, host: str = "127.0.0.1", port: int = 1025, delay: float = 0.0) -> Controller:
    controller = Controller(StoringHandler(directory, delay), hostname=host, port=port)
    controller.start()
    return controller


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMAIL_PORT", "1025")))
    parser.add_argument("--directory", type=Path, default=Path(os.environ.get("MAIL_DIR", "var/mail")))
    args = parser.parse_args()
    controller = start_sink(args.directory, args.host, args.port)
    print(f"SMTP sink on {args.host}:{args.port}, storing mail in {args.directory}/", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
