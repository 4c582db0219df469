"""A real HTTP receiver on 127.0.0.1 for delivery tests, written from docs/integration.md.

It verifies the signature, deduplicates by Renewals-Event-Id and records what it processed in
order; `mode` makes it misbehave: "ok", "500", "slow" (answers after the sender's time-out),
"close" (drops the connection without an answer). `stop()` takes it down (connection refused).
"""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver side of the scheme, exactly as docs/integration.md shows it in Python."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp = int(parts.get("t", "0"))
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class Receiver:
    def __init__(self, secret: str = ""):
        self.secret = secret
        self.mode = "ok"
        self.posts: list[dict] = []  # every request, as received
        self.processed: list[dict] = []  # each event once, in the order processed
        self.seen: set[str] = set()
        self.bad_signatures = 0
        self.slow_seconds = 2.0
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/renewals?src=test"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.posts.append({"headers": headers, "body": body, "path": self.path})
                mode = receiver.mode
                if mode == "close":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if mode == "500":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"boom")
                    return
                if not verify(receiver.secret, headers.get("renewals-signature", ""), body):
                    receiver.bad_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                event_id = headers["renewals-event-id"]
                if event_id not in receiver.seen:
                    receiver.seen.add(event_id)
                    receiver.processed.append(json.loads(body))
                if mode == "slow":  # processed, but answers after the sender gave up
                    time.sleep(receiver.slow_seconds)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok " + b"x" * 10_000)

        port = self.port
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def types(self) -> list[str]:
        return [e["type"] for e in self.processed]
