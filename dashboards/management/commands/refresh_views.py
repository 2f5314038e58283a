"""refresh_views [--view NAME] [--full] [--json]: refresh KPI views (incremental where it can)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from dashboards.kpi.registry import KPI_VIEWS, public_views
from dashboards.services.refresh import FULL, kpi_bases_rebuild, kpi_view_refresh


class Command(BaseCommand):
    help = "Refresh the KPI views: incrementally where partitions are waiting, fully with --full."

    def add_arguments(self, parser):
        parser.add_argument("--view", action="append", dest="views", metavar="NAME", help="only this view (repeatable)")
        parser.add_argument("--full", action="store_true", help="rebuild the views completely")
        parser.add_argument(
            "--json", action="store_true", help='print {"views": {NAME: {"mode", "duration_ms", "rows"}}}'
        )

    def handle(self, *args, views: list[str] | None, full: bool, json: bool, **options):
        public = [v.name for v in public_views()]
        for name in views or []:
            if name not in public:
                hint = " (a helper: refresh the view rolled up from it)" if name in KPI_VIEWS else ""
                raise CommandError(f"unknown KPI view {name!r}{hint}; known: {', '.join(public)}")
        results = {}
        if full:
            kpi_bases_rebuild()  # the order facts once, not once per view that reads them
        for name in views or public:
            try:
                results[name] = kpi_view_refresh(
                    view_name=name, mode=FULL if full else "auto", rebuild_bases=not full
                ).as_json()
            except Exception as exc:
                raise CommandError(f"refresh of {name} failed: {exc}".replace("\n", " ")) from exc
        if json:
            self.stdout.write(_dumps({"views": results}))
            return
        for name, result in results.items():
            self.stdout.write(f"{name:<28} {result['mode']:<12} {result['rows']:>9} rows {result['duration_ms']:>7} ms")


def _dumps(data: dict) -> str:
    return json.dumps(data)
