"""The one error the tool raises: a refused step, with a stable code naming the failed check."""

from __future__ import annotations


class ToolError(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
