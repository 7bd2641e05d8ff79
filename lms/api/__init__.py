"""JSON API v1 for the learning app and other token-authenticated clients.

Every route under `/api/v1` is here (`views.py`): courses, lessons, quizzes and progress,
the public certificate check and the statistics of a unit. A client trades a login and
password for a bearer token (`auth.py`; only its SHA-256 is stored) and sends it in
`Authorization: Bearer …` with every other request; the website's own pages (the offline
sync, `docs/offline.md`) may send their session cookie instead to the learner's routes,
writes with the CSRF token in a header (checked in `auth.py`, which is why the blueprint is
exempt from Flask-WTF's form check). Request bodies and answers are pydantic models
(`models.py`): the same models validate the request, build the JSON and, through the route
declarations (`openapi.py`), write the OpenAPI document. Answers are in the language of
`?lang=` or `Accept-Language` (Vietnamese by default). Errors are RFC 9457 problem details
with a stable `code` (`errors.py`). Writes go through the rooms' operations, and a view
that writes commits once.
"""
