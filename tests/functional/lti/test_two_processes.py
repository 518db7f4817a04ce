"""Two waitress processes on one database: a launch begun on one finishes on the other.

Runs on both databases (``--db=postgresql`` is the production shape; on SQLite both processes
share the test's database file).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from proctorhub.models import Attempt, Event, Launch

from ...conftest import ROOT
from ...lti_tool import begin_launch, path_of, run_launch
from .conftest import ISSUER


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ini(tmp_path: Path, db_url: str, port: int) -> Path:
    text = (ROOT / "testing.ini").read_text()
    lines = []
    for line in text.splitlines():
        if line.startswith("sqlalchemy.url"):
            line = f"sqlalchemy.url = {db_url.replace('%', '%%')}"
        lines.append(line)
    lines += ["", "[server:main]", "use = egg:waitress#main", "host = 127.0.0.1", f"port = {port}", "threads = 4"]
    path = tmp_path / f"server-{port}.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def two_servers(tmp_path, db_url, dbengine):
    pserve = Path(sys.executable).with_name("pserve")
    processes, bases = [], []
    for _ in range(2):
        port = _free_port()
        log = open(tmp_path / f"server-{port}.log", "wb")  # noqa: SIM115 - closed below
        processes.append((subprocess.Popen([str(pserve), str(_ini(tmp_path, db_url, port))], stdout=log,
                                           stderr=subprocess.STDOUT, env={**os.environ}), log))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        for base in bases:
            while True:
                try:
                    if requests.get(f"{base}/.well-known/openid-configuration", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    logs = "".join(path.read_text() for path in tmp_path.glob("server-*.log"))
                    raise RuntimeError(f"server {base} did not start:\n{logs}")
                time.sleep(0.1)
        yield bases
    finally:
        for process, log in processes:
            process.terminate()
            process.wait(timeout=10)
            log.close()


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_launch_alternating_between_two_processes(two_servers, dbsession, tool, tool_config, lms, order):
    bases = two_servers if order == "ab" else list(reversed(two_servers))
    with requests.Session() as browser:
        result = run_launch(browser, bases, lms_token=lms, config_id=tool_config.id, tool=tool,
                            platform_issuer=ISSUER)
    assert result["location"] == "https://lms.test/return"
    dbsession.expire_all()
    attempt = dbsession.execute(select(Attempt)).scalar_one()
    assert attempt.status == "started" and attempt.end_assessment_return is True
    launch = dbsession.execute(select(Launch)).scalar_one()
    assert launch.entered_at is not None and launch.authorized_at is not None
    assert result["launch"]["attempt"]["attempt_code"] == attempt.attempt_code


def test_session_data_spent_once_when_two_processes_race(two_servers, dbsession, tool, tool_config, lms):
    """Two LtiStartAssessment messages with the same session_data (fresh nonces) hit both
    processes at once: exactly one starts the attempt."""
    with requests.Session() as browser:
        begun = begin_launch(browser, two_servers, lms_token=lms, config_id=tool_config.id, tool=tool)
        claims = begun["claims"]
        path = path_of(claims["https://purl.imsglobal.org/spec/lti-ap/claim/start_assessment_url"])
        messages = [tool.start_assessment(claims, platform_issuer=ISSUER) for _ in two_servers]
        barrier = threading.Barrier(len(two_servers))

        def post(base, message):
            barrier.wait()
            return browser.post(base + path, data={"JWT": message}, allow_redirects=False)

        with ThreadPoolExecutor(len(two_servers)) as pool:
            answers = list(pool.map(post, two_servers, messages))
    assert sorted(a.status_code for a in answers) == [302, 400]
    refused = next(a for a in answers if a.status_code == 400)
    assert refused.json()["error"]["code"] == "session_data_used"
    dbsession.expire_all()
    assert dbsession.execute(select(Attempt.status)).scalar_one() == "started"
    assert dbsession.execute(select(func.count()).select_from(Event)).scalar_one() == 2  # ready_to_start, started
