"""Which database the ORM uses: always the primary. The standby (`replica`) is read only where a selector asks
for it by alias (`config.replica.read_alias`), so a page that just wrote never reads its own write from a copy
that may lag, and nothing is ever migrated or written there."""

from __future__ import annotations

PRIMARY = "default"


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        return PRIMARY

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        return db == PRIMARY
