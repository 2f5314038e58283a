"""A `replica` database alias for the read-routing tests of the normal suite.

`make test-scaleout` runs against a real streaming standby (DATABASE_REPLICA_URL); the normal suite has none, so
these tests point `replica` at the test database itself (a server not in recovery has replayed everything).
Its connection is separate from the test's: tests that use it are `django_db(transaction=True)` and list
`replica` in `databases`, and the alias is added before the test's database set-up sees the aliases.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

from config.replica import REPLICA


@contextmanager
def replica_alias() -> Iterator[str]:
    """`replica` as a second connection to the (already created) test database, until the block ends."""
    config = copy.deepcopy(connections["default"].settings_dict)
    config["TEST"] = {**config.get("TEST", {}), "MIRROR": "default"}
    connections.settings[REPLICA] = config
    try:
        yield REPLICA
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        connections.settings.pop(REPLICA, None)


@contextmanager
def replica_down() -> Iterator[None]:
    """The `replica` alias pointing at a closed port until the block ends: a standby that is down."""
    replica = connections[REPLICA]
    saved = dict(replica.settings_dict)
    replica.close()
    replica.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        yield
    finally:
        replica.close()
        replica.settings_dict.update(saved)
