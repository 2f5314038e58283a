"""Load the Northwind demo and create the demo users (idempotent)."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from accounts.models import Role
from accounts.services import user_upsert
from canonical.models import Employee

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "northwind-demo")
DEMO_USERS = [
    # username, role, Northwind employeeID
    ("fuller", Role.EXECUTIVE, "2"),
    ("buchanan", Role.MANAGER, "5"),
    ("davolio", Role.SALES_REP, "1"),
]


class Command(BaseCommand):
    help = "Load the Northwind demo through the normal ingest path and create demo users."

    def handle(self, *args, **options):
        for username, role, employee_ext in DEMO_USERS:
            employee = Employee.objects.filter(external_id=employee_ext).first()
            user_upsert(
                username=username, password=DEMO_PASSWORD, roles=[role], employee_id=employee.pk if employee else None
            )
        admin = user_upsert(username="admin", password=DEMO_PASSWORD, roles=[Role.ADMIN], is_staff=True)
        admin.is_superuser = True  # manages roles and permissions in Django admin
        admin.save(update_fields=["is_superuser"])
        self.stdout.write(f"\nDemo logins (password for each: {DEMO_PASSWORD}):")
        for username, role, _ in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {role}")
        self.stdout.write("  admin      Admin (Django admin)\n")
