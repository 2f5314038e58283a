from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from rest_framework.authtoken.models import TokenProxy


class Role(models.TextChoices):
    """Roles are Django groups with these names; admins assign them in Django admin."""

    EXECUTIVE = "Executive"
    MANAGER = "Manager"
    SALES_REP = "Sales Rep"
    ANALYST = "Analyst"
    ADMIN = "Admin"


class User(AbstractUser):
    employee = models.ForeignKey(
        "canonical.Employee",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
        help_text="The canonical employee this login acts as; decides which rows a manager or rep sees.",
    )

    class Meta:
        db_table = "accounts_user"


def api_token_key_hint(key: str | None) -> str:
    """What anyone but the token's owner may see of a key: its first 4 characters, as GitHub shows."""
    return f"{key[:4]}…" if key else "—"


class ApiToken(TokenProxy):
    """DRF's token as the admin site and the audit trail see it: never by its key (the key is the password).

    A proxy of DRF's `TokenProxy` (whose `pk` is the user id, so no URL holds a key) with a name that
    holds no key: admin titles, breadcrumbs, delete pages, messages and history all print `str(obj)`.
    """

    class Meta:
        proxy = True
        verbose_name = "API token"
        verbose_name_plural = "API tokens"

    def __str__(self) -> str:
        return f"API token of {self.user} ({api_token_key_hint(self.key)})"
