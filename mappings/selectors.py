"""Reads about uploads and mappings. `data_source_get_for_user` is the one access check for a source."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from accounts.selectors import user_can_manage_data, user_role_names
from mappings.models import DataSource, ExecutionJob, Mapping


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
