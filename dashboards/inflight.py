"""One computation at a time per key in a web process: the threads that ask for the same key while it is being
computed wait for that result instead of computing it again.

After a refresh every open dashboard asks for its widgets again at once (the poll sees new ETags), and a page's first
viewers all miss the kept partials and the pickers' options together: 8 threads of a worker drew the same partial 8
times, each reading, formatting and rendering the same rows. The key is the one the result is cached under (the kept
partial's, the pickers'), so a waiting thread gets exactly what it would have read from the cache a moment later: no
one is given a result keyed by anything else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

WAIT_SECONDS = 3.0  # a follower whose leader takes longer computes its own (a slow read must not queue everyone)


class _Flight:
    __slots__ = ("done", "value")

    def __init__(self):
        self.done = threading.Event()
        self.value = None


_flights: dict[str, _Flight] = {}
_lock = threading.Lock()


def computed_once(key: str, compute: Callable[[], T], *, wait_seconds: float = WAIT_SECONDS) -> tuple[T | None, bool]:
    """(value, computed here): `compute()` when no other thread of this process is computing `key`, else the value
    the thread computing it returns (None when it fails or takes longer than `wait_seconds`: the caller then computes
    its own)."""
    with _lock:
        flight = _flights.get(key)
        leader = flight is None
        if leader:
            flight = _flights[key] = _Flight()
    if not leader:
        return (flight.value if flight.done.wait(wait_seconds) else None), False
    try:
        flight.value = compute()
        return flight.value, True
    finally:
        with _lock:
            _flights.pop(key, None)
        flight.done.set()
