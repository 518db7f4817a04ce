"""The tool's own small SQLite file: nonces it has accepted, the launches it is showing, and the
client_id and deployment_id the platform gave it when it registered itself (LTI Dynamic
Registration).

Everything else lives in the browser's signed cookie. The file makes an id_token single-use even
if an old cookie is replayed, and keeps the verified launch claims server-side between the page
and the learner's click.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import closing

SCHEMA = """
CREATE TABLE IF NOT EXISTS used_nonce (value TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS registration (
    issuer TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    registered_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS launch (
    id TEXT PRIMARY KEY,
    browser_id TEXT NOT NULL,
    claims TEXT NOT NULL,
    created_at REAL NOT NULL,
    used_at REAL
);
"""


class Store:
    def __init__(self, path: str, *, launch_ttl_seconds: int = 3600):
        self.path = path
        self.launch_ttl_seconds = launch_ttl_seconds
        self._lock = threading.Lock()
        with closing(self._connect()) as connection, connection:
            connection.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def remember_nonce(self, value: str, expires_at: float) -> bool:
        """Record an accepted nonce; False if it was accepted before."""
        now = time.time()
        with self._lock, closing(self._connect()) as connection, connection:
            connection.execute("DELETE FROM used_nonce WHERE expires_at < ?", (now,))
            try:
                connection.execute("INSERT INTO used_nonce (value, expires_at) VALUES (?, ?)",
                                   (value, max(expires_at, now)))
            except sqlite3.IntegrityError:
                return False
        return True

    def add_launch(self, launch_id: str, browser_id: str, claims: dict) -> None:
        now = time.time()
        with self._lock, closing(self._connect()) as connection, connection:
            connection.execute("DELETE FROM launch WHERE created_at < ?", (now - self.launch_ttl_seconds,))
            connection.execute("INSERT INTO launch (id, browser_id, claims, created_at) VALUES (?, ?, ?, ?)",
                               (launch_id, browser_id, json.dumps(claims), now))

    def get_launch(self, launch_id: str) -> dict | None:
        """``{"browser_id", "claims", "created_at", "used_at"}``, or None if unknown or expired."""
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT browser_id, claims, created_at, used_at FROM launch WHERE id = ?",
                                     (launch_id,)).fetchone()
        if row is None or row[2] < time.time() - self.launch_ttl_seconds:
            return None
        return {"browser_id": row[0], "claims": json.loads(row[1]), "created_at": row[2], "used_at": row[3]}

    def use_launch(self, launch_id: str) -> bool:
        """Mark the launch used; False if it was used already (two clicks, or a replayed form)."""
        with self._lock, closing(self._connect()) as connection, connection:
            cursor = connection.execute("UPDATE launch SET used_at = ? WHERE id = ? AND used_at IS NULL",
                                        (time.time(), launch_id))
            return cursor.rowcount == 1

    def save_registration(self, issuer: str, client_id: str, deployment_id: str) -> None:
        """The platform's answer to the tool's registration; a later one replaces it."""
        with self._lock, closing(self._connect()) as connection, connection:
            connection.execute("INSERT INTO registration (issuer, client_id, deployment_id, registered_at) "
                               "VALUES (?, ?, ?, ?) ON CONFLICT (issuer) DO UPDATE SET client_id = excluded.client_id, "
                               "deployment_id = excluded.deployment_id, registered_at = excluded.registered_at",
                               (issuer, client_id, deployment_id, time.time()))

    def registration(self, issuer: str) -> tuple[str, str] | None:
        """``(client_id, deployment_id)`` the platform ``issuer`` registered this tool with, if any."""
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT client_id, deployment_id FROM registration WHERE issuer = ?",
                                     (issuer,)).fetchone()
        return (row[0], row[1]) if row else None
