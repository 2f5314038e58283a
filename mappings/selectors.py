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


def mapping_targets(mapping: Mapping) -> dict[str, dict]:
    """{"table.column": {"source_col", "transform"}} of what a saved mapping loads (a column the mapping's
    options drop is not loaded, so it maps nothing)."""
    dropped = set((mapping.options or {}).get("drop_columns") or [])
    targets = {}
    for f in mapping.fields.all():  # in position order (Meta.ordering)
        if not f.canonical_table or not f.canonical_col or (f.source_col and f.source_col in dropped):
            continue
        targets[f"{f.canonical_table}.{f.canonical_col}"] = {"source_col": f.source_col, "transform": f.transform}
    return targets


def mapping_version_diff(*, mapping_a: Mapping, mapping_b: Mapping) -> dict:
    """What changes from version `mapping_a` to `mapping_b` of one upload's mapping, by canonical column:
    {"added": [...], "removed": [...], "changed": [...], "options": {key: {"a", "b"}}}, each column entry
    {"target": "table.column", "table", "column", "a": {"source_col", "transform"} | None, "b": ... | None}.

    Executing `mapping_b` after `mapping_a` empties the removed columns on the rows the upload wrote
    (docs/TRANSFORMS.md, "A new version replaces the old one")."""
    if mapping_a.source_id != mapping_b.source_id:
        raise ValueError("both versions must belong to the same upload")
    a, b = mapping_targets(mapping_a), mapping_targets(mapping_b)

    def entry(target: str) -> dict:
        table, column = target.split(".", 1)
        return {"target": target, "table": table, "column": column, "a": a.get(target), "b": b.get(target)}

    options = {
        key: {"a": (mapping_a.options or {}).get(key), "b": (mapping_b.options or {}).get(key)}
        for key in sorted(set(mapping_a.options or {}) | set(mapping_b.options or {}))
        if (mapping_a.options or {}).get(key) != (mapping_b.options or {}).get(key)
    }
    return {
        "added": [entry(t) for t in sorted(set(b) - set(a))],
        "removed": [entry(t) for t in sorted(set(a) - set(b))],
        "changed": [entry(t) for t in sorted(set(a) & set(b)) if a[t] != b[t]],
        "options": options,
    }


def mapping_columns_executed(*, source: DataSource, exclude: Mapping | None = None) -> set[str]:
    """Every "table.column" that a version of the upload's mapping loaded in a succeeded execution."""
    executed = Mapping.objects.filter(source=source, jobs__status=ExecutionJob.Status.SUCCEEDED).distinct()
    if exclude is not None:
        executed = executed.exclude(pk=exclude.pk)
    return {target for mapping in executed.prefetch_related("fields") for target in mapping_targets(mapping)}
