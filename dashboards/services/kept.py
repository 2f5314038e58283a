"""Kept summaries' lifecycle: a summary no widget uses any more is dropped (its tables, its hierarchy snapshot, its
pending rebuilds, its registry row), so no orphan table is left to be refreshed and to take space.

Who drops: deleting a widget or taking its question out of "kept ready" (`dashboards.receivers`, after the commit,
when no refresh of the source is running; else a task that waits for it), the source's own refresh (which finds any
left, under its lock), and an administrator (Django admin, "drop summary"). Every drop takes the source's refresh lock
first: a refresh never writes a table dropped under it.
"""

from __future__ import annotations

import logging

from django.db import connection, transaction
from psycopg import sql

from dashboards.kpi.kept import kept_name, kept_tables
from dashboards.kpi.question import question_build
from dashboards.kpi.registry import KPI_VIEWS, TEAM_SNAPSHOTS
from dashboards.models import KeptQuestion, KpiPendingRefresh, Widget
from dashboards.services.refresh.partitions import _lock

logger = logging.getLogger(__name__)


def _uses(widget: Widget, name: str) -> bool:
    """Whether the widget reads the summary `name`: it names it, and its question is still that summary's."""
    options = widget.query_options
    if options.get("kept") != name or "question" not in options:
        return False
    try:
        return kept_name(question_build(payload=options["question"])) == name
    except Exception:  # a question that no longer builds reads nothing: it does not keep a summary alive
        return False


def kept_names_in_use(names: list[str]) -> set[str]:
    """The summaries among `names` that some widget reads."""
    widgets = Widget.objects.filter(data_source__filters__kept__in=list(names)).only("data_source")
    return {name for name in names for widget in widgets if _uses(widget, name)}


@transaction.atomic
def kept_question_drop(*, kept: KeptQuestion, wait: bool = True, locked: bool = False) -> None:
    """Drop a kept summary: its tables (the summary and its team rows), snapshot and pending rebuilds, its row, and
    the widgets' mention of it (they read their source from then on). Takes the source's refresh lock unless the
    caller holds it (`locked`); `wait=False` raises RefreshBusy instead of waiting for a running refresh."""
    source = KPI_VIEWS.get(kept.source)
    if source is not None and not locked:
        _lock(source, wait=wait)
    tables = kept_tables(kept.name, kept.declaration)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        cursor.execute(
            sql.SQL("DELETE FROM {} WHERE aggregate_name = ANY(%s)").format(sql.Identifier(TEAM_SNAPSHOTS)), [tables]
        )
    KpiPendingRefresh.objects.filter(view_name__in=tables).delete()
    for widget in Widget.objects.filter(data_source__filters__kept=kept.name):
        options = {k: v for k, v in widget.query_options.items() if k != "kept"}
        widget.data_source = {**widget.data_source, "filters": options}
        widget.save(update_fields=["data_source"])
    kept.delete()
    for table in tables:
        KPI_VIEWS.pop(table, None)  # this process's registry; the others sync from the rows (`kept_views_load`)
    logger.info("kept summary %s of %s dropped", kept.name, kept.source)


def kept_questions_release(*, names: list[str] | None = None, source: str | None = None, **drop) -> list[str]:
    """Drop the kept summaries (those named, or those of `source`) that no widget reads any more; their names.
    `drop`: `kept_question_drop`'s `wait` and `locked`."""
    rows = KeptQuestion.objects.all()
    if names is not None:
        rows = rows.filter(name__in=names)
    if source is not None:
        rows = rows.filter(source=source)
    rows = list(rows)
    used = kept_names_in_use([row.name for row in rows])
    dropped = []
    for row in rows:
        if row.name not in used:
            kept_question_drop(kept=row, **drop)
            dropped.append(row.name)
    return dropped


@transaction.atomic
def question_unkeep(*, widget: Widget) -> list[str]:
    """Take a widget's question out of "kept ready": it reads its source again; its summary is dropped when no other
    widget reads it. Returns the summaries dropped."""
    name = widget.query_options.get("kept")
    if not name:
        return []
    options = {k: v for k, v in widget.query_options.items() if k != "kept"}
    widget.data_source = {**widget.data_source, "filters": options}
    widget.save(update_fields=["data_source"])
    return kept_questions_release(names=[name])
