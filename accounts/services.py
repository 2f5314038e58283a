"""Writes about users and roles."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import Role, User


def roles_ensure() -> dict[str, Group]:
    """Create the role groups if missing (idempotent)."""
    return {role.value: Group.objects.get_or_create(name=role.value)[0] for role in Role}


@transaction.atomic
def user_upsert(
    *,
    username: str,
    password: str | None,
    roles: list[str],
    employee_id: int | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
) -> User:
    """Create or update a user with exactly `roles`, linked to canonical employee `employee_id`."""
    groups = roles_ensure()
    unknown = set(roles) - set(groups)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}; known: {sorted(groups)}")
    user, _ = User.objects.get_or_create(username=username)
    user.email = email
    user.first_name = first_name
    user.last_name = last_name
    user.employee_id = employee_id
    user.is_staff = is_staff or Role.ADMIN in roles
    if password is not None:
        user.set_password(password)
    user.save()
    user.groups.set([groups[r] for r in roles])
    return user
