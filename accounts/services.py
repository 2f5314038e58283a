"""Writes about users and roles."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts.models import Role, User

# Model permissions a role carries in Django admin. Admins read the audit trail and revoke API tokens;
# they do not get `change_user`, which would let them make anyone (themselves included) a superuser.
ROLE_ADMIN_PERMISSIONS: dict[str, list[str]] = {
    Role.ADMIN: [
        "auditlog.view_logentry",
        # The API-token list with keys masked (accounts.ApiToken); DRF's own, with keys in clear, is gone.
        "accounts.view_apitoken",
        "accounts.delete_apitoken",
        "accounts.view_user",
        "auth.view_group",
        "mappings.view_datasource",
        "mappings.view_mapping",
        "mappings.view_fieldmapping",
        "mappings.view_executionjob",
    ],
}


def roles_ensure() -> dict[str, Group]:
    """Create the role groups if missing, with their admin permissions (idempotent)."""
    groups = {role.value: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    for role, codenames in ROLE_ADMIN_PERMISSIONS.items():
        wanted = [_permission(code) for code in codenames]
        groups[role].permissions.add(*[p for p in wanted if p is not None])
    return groups


def _permission(dotted: str) -> Permission | None:
    app_label, codename = dotted.split(".", 1)
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()


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
    # Setting the same password again would revoke the user's API token (accounts/receivers.py).
    if password is not None and not (user.pk and user.check_password(password)):
        user.set_password(password)
    user.save()
    user.groups.set([groups[r] for r in roles])
    return user


@transaction.atomic
def api_token_create(*, user: User):
    """Give `user` a fresh API token, revoking any previous one (one token per user)."""
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def api_token_revoke(*, user: User) -> bool:
    """Revoke the user's API token; True if there was one."""
    from rest_framework.authtoken.models import Token

    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
