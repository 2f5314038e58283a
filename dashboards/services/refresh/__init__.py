"""The KPI refresh engine: full and incremental refreshes of the summary tables in the registry.

Each refresh of a view runs in ONE transaction holding a PostgreSQL advisory lock for that view, so
two refreshes of a view never overlap and a failure rolls back to the previous rows (readers keep
seeing them; MVCC never blocks readers). Every run writes a `refresh_jobs` row, outside that
transaction so that failures are recorded too.
"""

from dashboards.services.refresh.engine import (
    RefreshResult,
    kpi_refresh_mark_touched,
    kpi_refresh_read_your_own,
    kpi_view_refresh,
    kpi_views_refresh_all,
    views_depending_on,
)
from dashboards.services.refresh.order_facts import kpi_bases_rebuild
from dashboards.services.refresh.partitions import (
    ADVISORY_LOCK_NAMESPACE,
    AUTO,
    FULL,
    INCREMENTAL,
    RefreshBusy,
    view_sql,
)

__all__ = [
    "ADVISORY_LOCK_NAMESPACE",
    "AUTO",
    "FULL",
    "INCREMENTAL",
    "RefreshBusy",
    "RefreshResult",
    "kpi_bases_rebuild",
    "kpi_refresh_mark_touched",
    "kpi_refresh_read_your_own",
    "kpi_view_refresh",
    "kpi_views_refresh_all",
    "view_sql",
    "views_depending_on",
]
