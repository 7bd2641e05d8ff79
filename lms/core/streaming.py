"""Pages sent while they are being written, for work that takes seconds.

A member importing 10,000 learners should see that something is happening, on a cheap
phone, with JavaScript off and without a job queue. The work is a generator yielding
progress objects; the page (`core/working.html`) is streamed: the layout first, then
one progress line per step as the work advances (CSS shows only the latest), then a
link on (and a meta refresh) or the error. The work runs inside the request, in the
request's single transaction, committed by `finish` only when every step succeeded.

The response status and the session cookie leave with the first bytes, so the work
cannot change them (no flashed messages); a failure part-way is rolled back and shown
on the page itself. Flask ends the view's application context (and Flask-SQLAlchemy
removes its session) before the stream starts, so objects the view loaded are detached
by then: the work is given as `start`, called inside the stream, which loads what it
changes again by id.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from flask import Response, current_app, stream_with_context
from flask_babel import gettext as _

from lms.errors import DomainError
from lms.extensions import db

FLUSH = "<!--step-->"  # the template marks where a chunk may be sent


class StreamedWork:
    """The steps of one request's work, and what the page shows when they end."""

    def __init__(self, start: Callable[[], Generator], *, describe: Callable[[object], str],
                 finish: Callable[[object], str], back_url: str):
        self._start = start  # called inside the stream: returns the step generator
        self.describe = describe  # progress → text of its line
        self._finish = finish  # result → URL of the next page; commits
        self.back_url = back_url
        self.next_url: str | None = None
        self.error: str | None = None

    def steps(self):
        """Yield the progress objects; afterwards `next_url` or `error` is set."""
        try:
            result = yield from self._start()
            self.next_url = self._finish(result)
        except DomainError as error:
            db.session.rollback()
            self.error = error.message
        except Exception:  # the status line has left: the page itself must say it failed
            db.session.rollback()
            current_app.logger.exception("streamed work failed")
            self.error = _("Something went wrong and nothing was saved. Please try again.")


def stream_page(template_name: str, **context) -> Response:
    """Render a template as a stream, sending a chunk at each FLUSH mark."""
    app = current_app._get_current_object()
    template = app.jinja_env.get_or_select_template(template_name)
    app.update_template_context(context)

    def chunks():
        pending: list[str] = []
        for piece in template.generate(context):
            pending.append(piece)
            if FLUSH in piece:
                yield "".join(pending)
                pending.clear()
        yield "".join(pending)

    # X-Accel-Buffering: a reverse proxy (nginx) must pass the chunks on as they come.
    return Response(stream_with_context(chunks()), mimetype="text/html",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
