"""How responses travel on weak networks: versioned static URLs, long caching, gzip.

Every static URL carries `?v=<version>`, a hash of the static files taken once when
the process starts; a file served under the current version may be kept by the browser
for a year (`immutable`), and any change to any static file gives every URL a new
version. One version for the whole folder (not one per file) lets the service worker
name its shell files without a list of hashes: the site has a dozen static files.

Text responses (pages, CSS, JS, JSON) are gzipped on the fly when the browser accepts
it: level 6 on a 6 KB stylesheet costs about 0.1 ms, and a precompressed copy of each
file would be a build step to forget. Streamed responses (exports) are left alone.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from flask import Flask, current_app, request

STATIC_MAX_AGE = 365 * 24 * 3600
COMPRESSIBLE = frozenset({"text/html", "text/css", "text/plain", "text/csv", "application/json",
                          "application/javascript", "text/javascript", "application/manifest+json",
                          "image/svg+xml", "application/problem+json"})
MIN_COMPRESS_BYTES = 512  # below one packet gzip saves nothing worth its header
GZIP_LEVEL = 6


def static_version(app: Flask) -> str:
    """A short hash of every static file of the app and its blueprints."""
    version = app.extensions.get("static_version")
    if version is None:
        digest = hashlib.sha256()
        folders = [app.static_folder] + [bp.static_folder for bp in app.blueprints.values()]
        for folder in sorted({f for f in folders if f}):
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    digest.update(str(path.relative_to(folder)).encode())
                    digest.update(path.read_bytes())
        version = app.extensions["static_version"] = digest.hexdigest()[:12]
    return version


def _is_static(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def _version_static_urls(endpoint: str, values: dict) -> None:
    if _is_static(endpoint) and "v" not in values:
        values["v"] = static_version(current_app)


def _cache_static(response):
    if _is_static(request.endpoint) and response.status_code in (200, 304):
        if request.args.get("v") == static_version(current_app):
            response.cache_control.public = True
            response.cache_control.max_age = STATIC_MAX_AGE
            response.cache_control.immutable = True
        else:  # an old or missing version: the browser must ask again
            response.cache_control.no_cache = True
    return response


def _compress(response):
    if response.mimetype not in COMPRESSIBLE:
        return response
    response.vary.add("Accept-Encoding")
    streamed = response.is_streamed and not response.direct_passthrough  # a generator, not a file
    if (response.status_code != 200 or streamed or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "").lower()):
        return response
    original = response.response
    response.direct_passthrough = False  # a static file: read it to compress it
    data = response.get_data()
    if hasattr(original, "close"):
        original.close()  # the file, now read into memory
    if len(data) < MIN_COMPRESS_BYTES:
        return response
    response.set_data(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(etag + "-gzip", weak)
    return response


def init_app(app: Flask) -> None:
    app.url_defaults(_version_static_urls)
    app.after_request(_compress)  # after_request runs last-registered first: cache headers, then gzip
    app.after_request(_cache_static)
