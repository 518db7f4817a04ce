"""A webhook receiver on a loopback port for the tests, whose behaviour the test sets.

``mode`` says how it answers the next requests: ``ok`` (200), ``error`` (500), ``gone`` (410),
``redirect`` (302 to another path), ``hang`` (answers nothing for ``hang_seconds``), ``reset``
(closes the connection without an answer), ``huge`` (200 with a body of ``huge_bytes``, streamed).
Every request is recorded (headers and body), whatever the mode.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    headers: dict
    body: bytes
    mode: str

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    def __init__(self):
        self.mode = "ok"
        self.hang_seconds = 3.0
        self.huge_bytes = 100 * 1024 * 1024
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.port: int | None = None
        self.huge_sent = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def accepted(self) -> list[Received]:
        """The requests answered 2xx."""
        with self.lock:
            return [r for r in self.received if r.mode in ("ok", "huge")]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - the name http.server calls
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                mode = receiver.mode
                with receiver.lock:
                    receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body, mode))
                if mode == "ok":
                    self._answer(200, b'{"ok": true}')
                elif mode == "error":
                    self._answer(500, b"Internal Server Error: " + b"x" * 5000)
                elif mode == "gone":
                    self._answer(410, b"gone")
                elif mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif mode == "hang":
                    time.sleep(receiver.hang_seconds)
                    self.close_connection = True
                elif mode == "reset":
                    # RST instead of FIN: the client sees "connection reset".
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                elif mode == "huge":
                    self.send_response(200)
                    self.send_header("Content-Length", str(receiver.huge_bytes))
                    self.end_headers()
                    chunk = b"y" * 65536
                    try:
                        for _ in range(receiver.huge_bytes // len(chunk)):
                            self.wfile.write(chunk)
                            receiver.huge_sent += len(chunk)
                    except OSError:
                        pass  # the client stopped reading, as it should
                    self.close_connection = True

            def _answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening (connections are refused until ``start`` again, on the same port)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
