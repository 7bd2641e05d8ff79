"""Errors that operations raise for the user to read.

Each carries a stable `code` (for the API and tests) and a lazily translated message,
so the same operation can be called from a view, the API or the CLI and the person on
the other end reads it in their own language.
"""

from __future__ import annotations


class DomainError(ValueError):
    status = 400

    def __init__(self, code: str, message, *, field: str | None = None, **params):
        super().__init__(code)
        self.code = code
        self.field = field
        self._message = message
        self.params = params

    @property
    def message(self) -> str:
        return str(self._message).format(**self.params) if self.params else str(self._message)

    def __str__(self) -> str:
        # Outside a request or app context (a traceback in a script, a test report) the
        # lazy message cannot be translated: show the code rather than "str() failed".
        try:
            return self.message
        except RuntimeError:
            return self.code


class NotAllowedError(DomainError):
    status = 403


class NotFoundError(DomainError):
    status = 404
