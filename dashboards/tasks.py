"""Thin Celery tasks: load by name, call a service."""

from __future__ import annotations

from celery import shared_task

from dashboards.services.refresh import kpi_refresh_read_your_own, kpi_view_refresh


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=2,  # 2 s, 4 s, 8 s, ... (with jitter), capped below
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def kpi_view_refresh_task(self, view_name: str, mode: str = "auto", source_id: int | None = None) -> dict:
    """Refresh one view; a busy lock or a failure is retried with backoff (the view keeps its rows meanwhile)."""
    result = kpi_view_refresh(
        view_name=view_name, mode=mode, wait=False, attempt=self.request.retries + 1, source_id=source_id
    )
    if source_id is not None:
        # The uploader's dashboards show the upload once this refresh is replayed: until then, the primary.
        kpi_refresh_read_your_own(source_id=source_id)
    return result.as_json()


@shared_task(acks_late=True)
def kpi_staleness_check_task() -> int:
    """Raise (and email) alerts for views past their maximum staleness or failing repeatedly."""
    from dashboards.services.staleness import kpi_staleness_check

    return len(kpi_staleness_check())


@shared_task(acks_late=True)
def kpi_read_scopes_prune_task() -> int:
    """Delete the KPI read scopes stored over a week ago (scopes that hierarchy changes left behind)."""
    from dashboards.kpi.rls import kpi_read_scopes_prune

    return kpi_read_scopes_prune()


@shared_task(acks_late=True)
def kept_questions_release_task(names: list[str]) -> list[str]:
    """Drop the kept summaries among `names` that no widget reads, waiting for a running refresh of their source."""
    from dashboards.services.kept import kept_questions_release

    return kept_questions_release(names=names)
