"""A TCP proxy in front of PostgreSQL that a test can cut, stall and restore.

- ``cut()``: every open connection is closed, and new ones are closed as soon as they arrive
  (a database that refuses or drops connections);
- ``stall()``: connections stay open but no byte moves either way, and new ones are accepted
  and then left silent (a hung server or a partitioned network);
- ``restore()``: bytes flow again; connections that were cut stay closed.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time

OPEN, CUT, STALL = "open", "cut", "stall"


class FaultProxy:
    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.mode = OPEN
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self.mode = CUT
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stall(self) -> None:
        self.mode = STALL

    def restore(self) -> None:
        self.mode = OPEN

    def close(self) -> None:
        self._stopped = True
        self.cut()
        self._thread.join(timeout=2)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode == CUT:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        other = {client: upstream, upstream: client}
        try:
            while not self._stopped:
                if self.mode == STALL:
                    time.sleep(0.02)
                    continue
                if self.mode == CUT:
                    return
                readable, _, _ = select.select([client, upstream], [], [], 0.05)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    other[sock].sendall(data)
        except OSError:
            return
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                with contextlib.suppress(ValueError):
                    self._pairs.remove((client, upstream))
