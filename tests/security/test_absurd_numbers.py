"""Absurd numbers on every route: no integer from a URL or a form answers 500.

The routes come from `app.url_map` (a new route is covered without editing this file),
the persona for each from tests/security/routes.py's `EXPECTED`, so the request gets
past the login and role checks to the code that reads the number.

- Every `<int:…>` argument of every rule gets 0 and numbers past 32 bits, 64 bits and
  any machine integer (SQLite raises OverflowError, PostgreSQL "out of range").
- Every GET parameter the templates use (the keyword arguments of their `url_for`
  calls, and the fields of every GET form and link query the pages actually render)
  gets huge, negative, fractional and non-numeric values on every GET route.
- Every field of the form each POST route takes (the route matrix's payloads) gets the
  same values.

An answer may refuse (400, 404, 422), redirect or clamp; it must never be a 500. The
CI runs this on SQLite and on PostgreSQL (they overflow differently).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import url_for

from tests.security.conftest import page_token, persona_client
from tests.security.routes import EXPECTED, RULES, payload_for, rolled_back, url_values

HUGE = "99999999999999999999"
NUMBERS = [HUGE, "9223372036854775808", "2147483648", "-1", "-" + HUGE, "0", "abc", "1.5", "1e400", "٣"]
# Past 32 bits (PostgreSQL INTEGER), past 64 bits (SQLite), negative, not a number: tried
# one parameter at a time; every value of NUMBERS is also tried on all parameters at once.
EACH = [HUGE, "2147483648", "-1", "abc"]
PATH_NUMBERS = ["0", "2147483648", "9223372036854775808", HUGE]
TEMPLATES = Path(__file__).resolve().parents[2] / "lms"
SKIP_GET = {"static", "team.static", "learning.course_media", "core.service_worker", "accounts.logout"}


def _persona(endpoint: str) -> str:
    """The persona most likely to be let through to the code that reads numbers."""
    who = EXPECTED[endpoint].who
    for persona in ("national_admin", "team_member", "commune_official", "learner", "anonymous"):
        if persona in who:
            return persona
    raise AssertionError(endpoint)


def template_parameters() -> set[str]:
    """Keyword arguments of every url_for(...) in the templates (query parameters and path parts)."""
    names: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        for call in re.findall(r"url_for\(([^)]*)\)", template.read_text(encoding="utf-8")):
            names.update(re.findall(r"\b([a-z_]+)\s*=", call))
    return names


class _Harvest(HTMLParser):
    """Names of the query parameters a page's links and GET forms send."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()
        self._get_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.names.update(name for name, _value in parse_qsl(urlsplit(attrs["href"]).query))
        elif tag == "form":
            self._get_form = (attrs.get("method") or "get").lower() == "get"
        elif tag in ("input", "select", "textarea") and self._get_form and attrs.get("name"):
            self.names.add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._get_form = False


def _url(app, world, endpoint, rule, persona, **override) -> str:
    expect = EXPECTED[endpoint]
    target = None
    if expect.objects:
        from tests.security.routes import targets

        target = next(t for t, inside in reversed(targets(expect, persona)) if inside)
    values = url_values(world, endpoint, rule, expect, target, persona)
    with app.test_request_context():
        url = url_for(endpoint, **values)
    for name, value in override.items():  # replace the rendered argument textually
        url = url.replace(f"/{values[name]}", f"/{value}", 1)
    return url


def _headers(world, endpoint, persona) -> dict:
    if EXPECTED[endpoint].api and persona != "anonymous":
        return {"Authorization": f"Bearer {world.tokens[persona]}"}
    return {}


@pytest.fixture
def clients(app, world):
    made: dict = {}

    def client_for(persona):
        if persona not in made:
            made[persona] = persona_client(app, world, persona)
        return made[persona]

    return client_for


def _harvested(app, world, clients) -> set[str]:
    names = template_parameters()
    for endpoint, rule, methods in RULES:
        if "GET" not in methods or endpoint in SKIP_GET:
            continue
        persona = _persona(endpoint)
        response = clients(persona).get(_url(app, world, endpoint, rule, persona),
                                        headers=_headers(world, endpoint, persona))
        if (response.mimetype or "") == "text/html":
            harvest = _Harvest()
            harvest.feed(response.get_data(as_text=True))
            names |= harvest.names
    return names - {"csrf_token"}


def _server_errors(responses) -> list[str]:
    return [f"{where} → {response.status_code}" for where, response in responses if response.status_code >= 500]


def test_int_path_arguments(app, world, clients):
    """Every <int:…> of every rule, with 0 and numbers no column can hold."""
    answers = []
    rules = [(e, r, m) for e, r, m in RULES if "<int:" in r]
    assert rules, "the app has int converters"
    for endpoint, rule, methods in rules:
        persona = _persona(endpoint)
        client = clients(persona)
        for name in re.findall(r"<int:(\w+)>", rule):
            for value in PATH_NUMBERS:
                url = _url(app, world, endpoint, rule, persona, **{name: value})
                for method in methods:
                    with rolled_back():
                        data = {"csrf_token": page_token(client)} if method == "POST" else None
                        answers.append((f"{persona} {method} {url}", client.open(
                            url, method=method, data=data, headers=_headers(world, endpoint, persona))))
    assert not _server_errors(answers), "\n".join(_server_errors(answers))


def test_query_parameters_on_every_get_route(app, world, clients):
    """Every parameter the templates use, with absurd values, on every GET route."""
    names = sorted(_harvested(app, world, clients))
    assert {"page", "village", "course", "part", "province", "lang", "status", "q"} <= set(names), names
    answers = []
    for endpoint, rule, methods in RULES:
        if "GET" not in methods or endpoint in SKIP_GET:
            continue
        persona = _persona(endpoint)
        client = clients(persona)
        url = _url(app, world, endpoint, rule, persona)
        base = payload_for(world, endpoint, persona, None).get("query") or {}
        headers = _headers(world, endpoint, persona)
        with rolled_back():
            for value in NUMBERS:
                query = {**base, **dict.fromkeys(names, value)}
                answers.append((f"{persona} GET {url}?(every parameter)={value}",
                                client.get(url, query_string=query, headers=headers)))
            for value in EACH:
                for name in sorted({*names, *base}):
                    query = {**base, name: value}
                    answers.append((f"{persona} GET {url}?{name}={value}",
                                    client.get(url, query_string=query, headers=headers)))
    assert not _server_errors(answers), "\n".join(_server_errors(answers))


def test_form_fields_on_every_post_route(app, world, clients):
    """Every field of every form (as the route matrix fills it), with absurd values."""
    answers = []
    for endpoint, rule, methods in RULES:
        if "POST" not in methods or rule.startswith("/api/") or endpoint == "accounts.logout":
            continue
        persona = _persona(endpoint)
        client = clients(persona)
        payload = payload_for(world, endpoint, persona, None)
        fields = {k: v for k, v in (payload.get("data") or {}).items() if k != "file"}
        for name in fields:
            for value in NUMBERS:
                with rolled_back():
                    url = _url(app, world, endpoint, rule, persona)
                    data = {**fields, name: value, "csrf_token": page_token(client)}
                    answers.append((f"{persona} POST {url} {name}={value}",
                                    client.post(url, data=data, query_string=payload.get("query"))))
    assert not _server_errors(answers), "\n".join(_server_errors(answers))
