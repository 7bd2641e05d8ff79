"""JSON API v1 for the learning app and other token-authenticated clients.

Everything lives under `/api/v1` (the blueprint in `views.py`). A client trades a login
and password for a bearer token (`auth.py`; only its SHA-256 is stored) and sends it in
`Authorization: Bearer …` with every other request; the website's own pages may send
their session cookie instead, writes with the CSRF token in a header (checked in
`auth.py`, which is why the blueprint is exempt from Flask-WTF's form check). Requests are validated strictly
(`schemas.py`) and answered in the language of `?lang=` or `Accept-Language`
(Vietnamese by default). Errors are always `{"error": {"code", "message"}}` with a
stable code (`errors.py`). Writes go through `lms.learning.operations`, and a view that
writes commits once. `openapi.py` describes all of it, and a test keeps the two in step.
"""
