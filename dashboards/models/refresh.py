from __future__ import annotations

from django.db import models


class RefreshJob(models.Model):
    """One refresh of one KPI view (contract: refresh_jobs)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        SKIPPED = "skipped"

    source = models.ForeignKey(
        "mappings.DataSource", null=True, blank=True, on_delete=models.SET_NULL, related_name="refresh_jobs"
    )
    view_name = models.CharField(max_length=64, db_index=True)
    mode = models.CharField(max_length=16, default="full")  # full | incremental
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    last_run = models.DateTimeField(null=True, blank=True, help_text="When this run started.")
    next_run = models.DateTimeField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)
    rows = models.BigIntegerField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=1)
    partitions = models.JSONField(default=list, blank=True, help_text="Partitions recomputed (incremental).")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "refresh_jobs"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["view_name", "-created_at"], name="refresh_jobs_view_recent_idx")]
