from __future__ import annotations

from django.conf import settings
from django.db import models


class KeptQuestion(models.Model):
    """A question kept ready: a summary table (`name`) of its source, refreshed with the source's refresh.

    `declaration` is the summary's KPI view declaration (`dashboards.kpi.kept.kept_declaration`: columns, SQL over
    the source, scope and month columns), registered in the KPI registry by every process that refreshes or reads
    it (`kept_views_load`).
    """

    name = models.CharField(max_length=64, unique=True)
    source = models.CharField(max_length=64, db_index=True, help_text="The KPI view or dataset it summarizes.")
    declaration = models.JSONField()
    question = models.JSONField(help_text="The question as saved (payload).")
    read_ms = models.FloatField(null=True, blank=True, help_text="The live read's time when it was kept ready.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "kept_questions"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
