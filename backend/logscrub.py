"""Signed link tokens never reach a log.

A reminder's confirm/cancel link (``/r/<action>/<token>/``) and an unsubscribe link
(``/r/unsubscribe/<token>/``) act for the patient without a sign-in until they expire, so a
token in an access log is a credential in a log. Django's request and development-server
loggers pass through :class:`ScrubLinkTokens` (``LOGGING``); gunicorn's access log through
:class:`ScrubbingGunicornLogger` (``--logger-class``), which scrubs every field of the line
(request line, path, referrer, headers).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

LINK_TOKEN = re.compile(r"(/r/[^/\s?#\"]+/)[^/\s?#\"]+")


def scrub(text: str) -> str:
    """``text`` with the token of every public link replaced by ``[token]``."""
    return LINK_TOKEN.sub(r"\1[token]", text)


class ScrubLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


class ScrubbingGunicornLogger(GunicornLogger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {key: scrub(value) if isinstance(value, str) else value for key, value in atoms.items()}
