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


class KpiViewState(models.Model):
    """What is known about one KPI view: its last successful refresh, failures, the newest data it covers."""

    view_name = models.CharField(max_length=64, unique=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_mode = models.CharField(max_length=16, blank=True, default="")
    last_duration_ms = models.IntegerField(null=True, blank=True)
    rows = models.BigIntegerField(null=True, blank=True)
    data_through = models.DateField(null=True, blank=True, help_text="Newest date the view's data covers.")
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "kpi_view_states"
        ordering = ["view_name"]

    def __str__(self) -> str:
        return self.view_name


class KpiPendingRefresh(models.Model):
    """Partitions of a view waiting for an incremental refresh (recorded when an execution commits).

    Rows, not a field on the state: an execution appends without waiting for a running refresh, and the
    refresh deletes exactly the rows it consumed, in its own transaction (a failed refresh keeps them).
    """

    view_name = models.CharField(max_length=64, db_index=True)
    months = models.JSONField(default=list, blank=True, help_text='["YYYY-MM-01", ...]; ignored when full.')
    full = models.BooleanField(default=False, help_text="A dependency changed without months: refresh fully.")
    source = models.ForeignKey(
        "mappings.DataSource", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "kpi_pending_refreshes"
        ordering = ["id"]


class KpiAlert(models.Model):
    """A view older than its maximum staleness, or failing repeatedly. Open until `resolved_at`."""

    class Kind(models.TextChoices):
        STALE = "stale"
        FAILING = "failing"

    view_name = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = models.TextField()
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    emailed = models.BooleanField(default=False)

    class Meta:
        db_table = "kpi_alerts"
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["view_name", "kind"], condition=models.Q(resolved_at__isnull=True), name="kpi_alert_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.view_name}: {self.kind}"
