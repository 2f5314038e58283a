"""Reads about uploads and mappings. `data_source_get_for_user` is the one access check for a source."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from accounts.selectors import user_can_manage_data, user_role_names
from mappings.models import DataSource, ExecutionJob, FieldMapping, Mapping
from mappings.proposer.text import normalize_header

DATA_MANAGERS_ONLY = "Only executives, analysts and admins may upload, map and load data."


def require_data_manager(user: User) -> None:
    """Raise PermissionDenied unless `user` may change company-wide data: the check of every mappings page
    and API endpoint (DRF answers Django's PermissionDenied with a 403 carrying this message)."""
    if not user_can_manage_data(user):
        raise PermissionDenied(DATA_MANAGERS_ONLY)


def _sees_all_sources(user: User) -> bool:
    return user.is_superuser or "Admin" in user_role_names(user)


def data_sources_for_user(user: User) -> QuerySet[DataSource]:
    """Uploads the user may see: their own; admins see every upload."""
    if not user_can_manage_data(user):
        return DataSource.objects.none()
    qs = DataSource.objects.all()
    return qs if _sees_all_sources(user) else qs.filter(uploaded_by=user)


def data_source_get_for_user(user: User, source_id: int) -> DataSource:
    """The upload, if the user may see it; 404 otherwise (never reveal that it exists)."""
    try:
        return data_sources_for_user(user).get(pk=source_id)
    except (DataSource.DoesNotExist, ValueError, TypeError):
        raise Http404("No such upload") from None


def mapping_get_for_user(user: User, mapping_id: int) -> Mapping:
    try:
        return Mapping.objects.select_related("source").get(pk=mapping_id, source__in=data_sources_for_user(user))
    except (Mapping.DoesNotExist, ValueError, TypeError):
        raise Http404("No such mapping") from None


def job_get_for_user(user: User, job_id) -> ExecutionJob:
    try:
        return ExecutionJob.objects.select_related("source", "mapping").get(
            pk=job_id, source__in=data_sources_for_user(user)
        )
    except (ExecutionJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job") from None


SAME_LAYOUT = 0.8  # share of headers two files must share (Jaccard) for one's mapping to teach the other


def learned_mappings(*, user=None, headers: list[str] | None = None) -> dict[str, dict]:
    """Headers users mapped before → their latest saved target, by exact header and by normalized header,
    learned only from files with the same layout as `headers` (their header sets overlap by SAME_LAYOUT):
    "name" mapped in a customer list says nothing about a product list."""
    qs = FieldMapping.objects.exclude(source_col=None).order_by("-mapping__created_at", "-id")
    if user is not None and getattr(user, "is_authenticated", False):
        qs = qs.filter(source__in=data_sources_for_user(user))
    mine = {normalize_header(h) for h in headers or []}
    layouts: dict[int, bool] = {}
    learned: dict[str, dict] = {}
    rows = qs.values("source_col", "canonical_table", "canonical_col", "transform", "source_id", "source__dialect")
    for fm in rows[:5000]:
        if headers is not None:
            if fm["source_id"] not in layouts:
                theirs = {normalize_header(h) for h in (fm["source__dialect"] or {}).get("columns") or []}
                layouts[fm["source_id"]] = bool(theirs) and len(mine & theirs) / len(mine | theirs) >= SAME_LAYOUT
            if not layouts[fm["source_id"]]:
                continue
        entry = {k: fm[k] for k in ("canonical_table", "canonical_col", "transform")}
        learned.setdefault(fm["source_col"], entry)
        learned.setdefault(normalize_header(fm["source_col"]), entry)
    return learned


KEY_TYPES = ("identifier", "integer", "text", "category")
KEYED_MODELS = ("Customer", "Supplier", "Product", "Order", "Invoice", "Employee")


def known_keys(*, profile: dict) -> dict[str, dict[str, tuple[int, int]]]:
    """For each key-like column of a profiled file, the canonical tables whose external ids its shown
    values (top values and samples) already are: {column: {table: (matched, tried)}}. One query per
    table; the proposer reads a column whose values are a table's keys as a reference to it."""
    from canonical import models as canonical

    shown: dict[str, set[str]] = {}
    for column in profile.get("columns", []):
        if column.get("type") not in KEY_TYPES or column.get("avg_length", 0) > 64:
            continue
        values = {t["value"] for t in column.get("top", [])} | set(column.get("samples", []))
        values = {v.strip() for v in values if v and v.strip()}
        if len(values) >= 3:
            shown[column["name"]] = values
    if not shown:
        return {}
    everything = sorted(set().union(*shown.values()))
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for model_name in KEYED_MODELS:
        model = getattr(canonical, model_name)
        keys = set(model.objects.filter(external_id__in=everything).values_list("external_id", flat=True))
        if not keys:
            continue
        for name, values in shown.items():
            matched = len(values & keys)
            if matched:
                found.setdefault(name, {})[model._meta.db_table] = (matched, len(values))
    return found
