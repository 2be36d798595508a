"""A local HTTP server that speaks the part of Twilio's REST API the SMS backend uses.

Only the third-party boundary is faked: the real ``twilio`` client talks to it over loopback.
It checks basic auth, honours ``I-Twilio-Idempotency-Token`` (a replay returns the first message
and is not counted again), answers Twilio's error for an invalid number (21211) and a 503 on demand.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

INVALID_NUMBER = "+15005550001"  # Twilio's own magic number for "not a valid phone number"
UNAVAILABLE_NUMBER = "+15005550009"


class FakeTwilio:
    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "secret-token") -> None:  # noqa: S107
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, Any]] = []
        self.requests = 0
        self._by_token: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake.requests += 1
                expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if self.path != f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json":
                    return self._reply(404, {"code": 20404, "message": "Not found", "status": 404})
                form = {
                    k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()
                }
                if form.get("To") == INVALID_NUMBER:
                    return self._reply(400, {"code": 21211, "message": "The 'To' number is not valid.", "status": 400})
                if form.get("To") == UNAVAILABLE_NUMBER:
                    return self._reply(503, {"code": 20500, "message": "Service unavailable", "status": 503})
                token = self.headers.get("I-Twilio-Idempotency-Token", "")
                with fake._lock:
                    if token and token in fake._by_token:
                        return self._reply(201, fake._by_token[token])
                    message = {
                        "sid": f"SM{next(fake._ids):032d}", "account_sid": fake.account_sid, "to": form.get("To"),
                        "from": form.get("From"), "body": form.get("Body"), "status": "queued",
                        "idempotency_token": token,
                    }  # fmt: skip
                    fake.messages.append(message)
                    if token:
                        fake._by_token[token] = message
                return self._reply(201, message)

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeTwilio:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
