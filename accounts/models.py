from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


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
