"""Uploads, mappings and executions in Django admin: to look at, not to edit.

Every row here is written by a service (`data_source_create` stores and sniffs the file, `mapping_save`
versions a mapping, `execution_enqueue` queues a job), so the admin adds, changes and deletes nothing.
"""

from __future__ import annotations

from django.contrib import admin

from mappings.models import DataSource, ExecutionJob, FieldMapping, Mapping


class ReadOnly:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass


class FieldMappingInline(ReadOnly, admin.TabularInline):
    model = FieldMapping
    fields = ("position", "source_col", "canonical_table", "canonical_col", "transform", "confidence")
    readonly_fields = fields
    extra = 0


@admin.register(DataSource)
class DataSourceAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "rows", "size_bytes", "uploaded_by", "upload_date")
    list_filter = ("status", "file_format")
    search_fields = ("name", "sha256")
    list_select_related = ("uploaded_by",)
    date_hierarchy = "upload_date"


@admin.register(Mapping)
class MappingAdmin(ReadOnlyAdmin):
    list_display = ("source", "version", "created_by", "created_at", "note")
    search_fields = ("source__name", "note")
    list_select_related = ("source", "created_by")
    inlines = (FieldMappingInline,)


@admin.register(FieldMapping)
class FieldMappingAdmin(ReadOnlyAdmin):
    list_display = ("source_col", "canonical_table", "canonical_col", "confidence", "mapping")
    list_filter = ("canonical_table",)
    search_fields = ("source_col", "canonical_col")
    list_select_related = ("mapping", "mapping__source")


@admin.register(ExecutionJob)
class ExecutionJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "source", "status", "stage", "progress", "created_by", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("source__name", "error")
    list_select_related = ("source", "created_by")
    date_hierarchy = "created_at"
