"""Logging, configured once: one line per request with a request id, and no personal data.

A log line outlives the data it mentions: an erased learner's name must not survive in
a log file (Law 91/2025/QH15 gives the person the right to deletion, and logs are rarely
within its reach). So the log carries only what cannot name anyone:

- the request line without its query string (a team member's search may be a name, a
  phone or a whole national ID number), the endpoint, the status and the time taken;
- a request id (the proxy's `X-Request-ID` when it is a plain token, else a new one),
  sent back in the response so that a learner's "it failed at 10:02" can be found;
- for exceptions, the type and where it happened, never the message: SQLAlchemy puts
  the statement's parameters in its messages, reportlab the text it could not draw.
  An exception passed as a log argument (`logger.warning("... %s", error)`) is reduced to
  its type the same way.

`LMS_LOG_EXCEPTION_MESSAGES=1` shows messages for local debugging; production refuses it.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
import traceback
from types import TracebackType

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_HANDLER_MARK = "_lms_handler"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (gunicorn's, or a test's capture),
    not to the stream that happened to be there when the first app was created."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def current_request_id() -> str:
    """The id of the request being served, or "-" outside a request."""
    try:
        return str(g.get("request_id", "-"))
    except RuntimeError:  # no application context
        return "-"


class _RequestContext(logging.Filter):
    """Adds the request id to every record and reduces exception arguments to their type."""

    def __init__(self, show_messages: bool) -> None:
        super().__init__()
        self.show_messages = show_messages

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        if not self.show_messages and isinstance(record.args, tuple):
            record.args = tuple(_type_name(arg) if isinstance(arg, BaseException) else arg
                                for arg in record.args)
        return True


class PrivacyFormatter(logging.Formatter):
    """A formatter whose tracebacks keep frames and exception types, not messages."""

    def __init__(self, show_messages: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        self.show_messages = show_messages

    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:  # noqa: N802 - logging's name
        if self.show_messages or ei[1] is None:
            return super().formatException(ei)
        return _traceback_without_messages(ei[1])


def _type_name(error: BaseException) -> str:
    kind = type(error)
    return f"{kind.__module__}.{kind.__qualname__}"


def _traceback_without_messages(error: BaseException) -> str:
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts: list[str] = []
    for link in reversed(chain):
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(link.__traceback__))
        parts.append(f"{_type_name(link)}: (message withheld: it may hold personal data)\n")
    return "".join(parts).rstrip("\n")


def configure_logging(app: Flask) -> None:
    """One handler on the `lms` logger (every module's logger is below it), set up once per
    process however many apps are created, and one line per request for this app."""
    show_messages = bool(app.config.get("LOG_EXCEPTION_MESSAGES"))
    # `lms` is the application's logger tree; `certificates` is the renderer's (no Flask there).
    for name in LOGGER_TREES:
        _install_handler(logging.getLogger(name), show_messages, app.config.get("LOG_LEVEL", "INFO"))
    if app.config.get("LOG_REQUESTS", True):
        app.before_request(_start_request)
        app.after_request(_log_request)


LOGGER_TREES = ("lms", "certificates")


def _install_handler(logger: logging.Logger, show_messages: bool, level: str) -> None:
    ours = [handler for handler in logger.handlers if getattr(handler, _HANDLER_MARK, False)]
    if not ours:
        stream = _StderrHandler()
        setattr(stream, _HANDLER_MARK, True)
        logger.addHandler(stream)
        ours = [stream]
    for handler in ours:
        handler.setFormatter(PrivacyFormatter(show_messages))
        handler.filters = [_RequestContext(show_messages)]
    logger.setLevel(level)


_request_logger = logging.getLogger("lms.request")


def _start_request() -> None:
    start_request(request.headers.get(REQUEST_ID_HEADER, ""), time.perf_counter())


def start_request(incoming_id: str, started: float) -> str:
    """The request's id (the proxy's when it is a plain token), kept in `g` with its start
    time for the log line; also for `lms.learning.read_again`, which answers before Flask's
    request context (in an application context)."""
    request_id = incoming_id if _INCOMING_ID.match(incoming_id) else secrets.token_hex(8)
    g.request_id, g.request_started = request_id, started
    return request_id


def _log_request(response: Response) -> Response:
    if g.get("request_id") is None:  # a before_request handler ahead of ours answered
        _start_request()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    log_line(request.method, request.path, request.endpoint, response.status_code)
    return response


def log_line(method: str, path: str, endpoint: str | None, status: int) -> None:
    elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    _request_logger.info("%s %s %s %d %.1fms", method, path, endpoint or "-", status, elapsed_ms)
