"""Uploads (data_sources), versioned mappings (field_mappings) and execution jobs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class DataSource(models.Model):
    class Status(models.TextChoices):
        CONVERTING = "converting"  # a big file, converted and profiled by a task after the upload
        UPLOADED = "uploaded"
        PROFILED = "profiled"
        MAPPED = "mapped"
        QUEUED = "queued"
        RUNNING = "running"
        LOADED = "loaded"
        FAILED = "failed"

    name = models.CharField(max_length=255, help_text="The file's name as uploaded (sanitized).")
    file_path = models.CharField(max_length=1024, help_text="Where the upload is stored, under UPLOAD_DIR.")
    upload_date = models.DateTimeField(auto_now_add=True)
    domain = models.CharField(max_length=64, blank=True, default="", help_text="Domain hint, e.g. orders.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    rows = models.BigIntegerField(null=True, blank=True)
    file_format = models.CharField(max_length=16, default="csv")  # csv | xlsx | xls | ods
    dialect = models.JSONField(default=dict, blank=True, help_text="delimiter, quote, encoding, header.")
    profile = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    progress = models.FloatField(default=0.0, help_text="0..1 while a task converts the upload")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="data_sources"
    )

    class Meta:
        db_table = "data_sources"
        ordering = ["-upload_date"]

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"


class Mapping(models.Model):
    """One saved version of how a source's columns map onto the canonical schema."""

    source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="mappings")
    version = models.PositiveIntegerField()
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"on_missing_reference": "placeholder"|"reject", "all_or_nothing": bool, ...}',
    )
    note = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "mappings"
        ordering = ["source", "-version"]
        constraints = [models.UniqueConstraint(fields=["source", "version"], name="mapping_source_version_uniq")]

    def __str__(self) -> str:
        return f"{self.source.name} v{self.version}"


class FieldMapping(models.Model):
    """One column's target: source_col (or none, for a computed column) → canonical_table.canonical_col."""

    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="fields")
    source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="field_mappings")
    version = models.PositiveIntegerField()
    source_col = models.CharField(max_length=1024, null=True, blank=True)
    canonical_table = models.CharField(max_length=64, null=True, blank=True)
    canonical_col = models.CharField(max_length=64, null=True, blank=True)
    transform = models.JSONField(null=True, blank=True, help_text="List of transform steps; see docs.")
    confidence = models.FloatField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "field_mappings"
        ordering = ["mapping", "position"]


class ExecutionJob(models.Model):
    """One execution of a mapping; `GET /api/jobs/{id}` reports it."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="jobs")
    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="jobs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=64, blank=True, default="")
    progress = models.FloatField(default=0.0, help_text="0..1")
    report = models.JSONField(default=dict, blank=True, help_text="tables: {TABLE: counts}, errors: [...]")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the process running the job (every few seconds)."
    )
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="The delivery that claimed the job owns it until then; its heartbeat renews."
    )
    lease_owner = models.UUIDField(null=True, blank=True, help_text="Which delivery holds the lease.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "execution_jobs"
        ordering = ["-created_at"]


class RejectedRow(models.Model):
    job = models.ForeignKey(ExecutionJob, on_delete=models.CASCADE, related_name="rejected_rows")
    canonical_table = models.CharField(max_length=64)
    source_row = models.IntegerField(null=True, blank=True)
    column = models.CharField(max_length=1024, blank=True, default="")
    value = models.TextField(blank=True, default="")
    reason = models.TextField()

    class Meta:
        db_table = "rejected_rows"
        ordering = ["job", "source_row"]
