"""JSON log lines, as an option: ``[formatter_generic] class = proctorhub.operations.logs.JsonFormatter``.

One JSON object per line with ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, plus
whatever the call passed in ``extra`` (the access log passes ``request_id``, ``method``, ``path``,
``route``, ``status`` and ``duration_ms``), and ``exception`` with the traceback when there is one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
