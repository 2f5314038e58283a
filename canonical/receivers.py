"""Reactions to other apps' events: a committed bulk load leaves foreign keys to validate."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver

from mappings.signals import execution_committed

logger = logging.getLogger(__name__)


@receiver(execution_committed, dispatch_uid="canonical.foreign_keys_validate_after_bulk_load")
def foreign_keys_validate_after_bulk_load(sender, job, **kwargs) -> None:
    """A bulk load re-added its table's foreign keys NOT VALID: queue their validation (Celery). With the broker
    down they wait for the hourly schedule (dashboards.services.schedules)."""
    if not (job.report or {}).get("bulk_load"):
        return
    transaction.on_commit(_enqueue)


@receiver(execution_committed, dispatch_uid="canonical.data_currency_forget")
def data_currency_forget_after_load(sender, job, **kwargs) -> None:
    """New rows may bring another currency: the pages read it again."""
    from canonical.selectors import data_currency_forget

    transaction.on_commit(data_currency_forget)


def _enqueue() -> None:
    from canonical.tasks import canonical_foreign_keys_validate_task

    try:
        canonical_foreign_keys_validate_task.delay()
    except Exception as exc:  # noqa: BLE001 - broker down: the hourly schedule validates them
        logger.warning("could not queue the validation of foreign keys (%s); the hourly schedule will", exc)
