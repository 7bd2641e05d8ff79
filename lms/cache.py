"""The one way to keep things in a worker's memory: named caches with a size and a TTL.

Every cache of the application is declared here-by-name with `named(...)`, in the
module that owns what it keeps, with its size, its time to live and why it is safe.
`clear_all()` empties every one (the tests call it after each test). `configure(app)`
applies `LMS_CACHE_SECONDS` (e.g. ``content=1,villages=1``) so a test or a deployment
can shorten a TTL without touching code.

Each server process has its own caches, so what one process changes another sees only
when its copy expires or its key changes. Every cache is therefore one of:

- *keyed by content*: the key holds a hash of what the value was made from (lesson
  pages by the lesson's content hash, dashboard tables by a digest of their figures),
  so a change is a new key and nothing is ever stale: no TTL, a size bound only;
- *a copy with a TTL*: the copy may be this old in another process (content 30 s,
  villages 30 s, provinces and communes 5 minutes, course labels 30 s); the process
  that makes the change forgets its copy at once. These are the times `docs/decisions.md`
  states, and tests/core/test_cache_processes.py checks them with two real servers;
- *never changing*: the nation's id.

Pure memoisation of a function of its arguments (a derived signing key, a locale's
number symbols) stays `functools.cache`: it cannot be stale.

cachetools provides the LRU and TTL bookkeeping (expiry by `time.monotonic`); its
caches are not thread-safe, so each named cache holds a lock (gunicorn runs threads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import LRUCache, TTLCache

_MISSING = object()


class NamedCache:
    """A bounded, optionally expiring, thread-safe mapping with a name and a reason."""

    def __init__(self, name: str, *, maxsize: int, ttl: float | None, why: str) -> None:
        self.name, self.maxsize, self.default_ttl, self.why = name, maxsize, ttl, why
        self._lock = threading.Lock()
        self.set_ttl(ttl)

    def set_ttl(self, ttl: float | None) -> None:
        """Start again with another time to live (None: kept until evicted by size)."""
        with self._lock:
            self.ttl = ttl
            self._data = TTLCache(self.maxsize, ttl, timer=time.monotonic) if ttl else LRUCache(self.maxsize)

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            return self._data.get(key, default)

    def set(self, key: Hashable, value: Any) -> Any:
        with self._lock:
            self._data[key] = value
        return value

    def get_or_load(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The kept value, or `load()` kept now (loaded outside the lock: two threads may
        both load once, which is cheaper than making every reader wait)."""
        value = self.get(key, _MISSING)
        return self.set(key, load()) if value is _MISSING else value

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __repr__(self) -> str:
        return f"<NamedCache {self.name} maxsize={self.maxsize} ttl={self.ttl}>"


REGISTRY: dict[str, NamedCache] = {}


def named(name: str, *, maxsize: int, ttl: float | None = None, why: str) -> NamedCache:
    """Declare a cache (once per name: two modules cannot share a name by accident)."""
    return register(NamedCache(name, maxsize=maxsize, ttl=ttl, why=why))


def register(cache: NamedCache) -> NamedCache:
    """Put a cache made elsewhere under its name (so `clear_all` and `configure` reach it)."""
    if cache.name in REGISTRY:
        raise ValueError(f"cache {cache.name!r} is declared twice")
    REGISTRY[cache.name] = cache
    return cache


def clear_all() -> None:
    """Empty every cache (tests: what a rolled-back test created must not be kept)."""
    for cache in REGISTRY.values():
        cache.clear()


def parse_seconds(text: str) -> dict[str, float]:
    """``"content=1,villages=0.5"`` → {"content": 1.0, "villages": 0.5}."""
    found = {}
    for part in filter(None, (item.strip() for item in text.split(","))):
        name, _, seconds = part.partition("=")
        found[name.strip()] = float(seconds)
    return found


def configure(app) -> None:
    """Apply the app's `LMS_CACHE_SECONDS` overrides (unknown names are refused)."""
    for name, seconds in (app.config.get("LMS_CACHE_SECONDS") or {}).items():
        if name not in REGISTRY:
            raise RuntimeError(f"LMS_CACHE_SECONDS names an unknown cache {name!r}: {sorted(REGISTRY)}")
        REGISTRY[name].set_ttl(seconds)
