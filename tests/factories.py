"""Factories for the personas and canonical rows tests need."""

from __future__ import annotations

import csv
from pathlib import Path

import factory
from django.conf import settings

from accounts.models import Role, User
from accounts.services import user_upsert
from canonical.models import Employee

PASSWORD = "correct-horse-battery"


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    external_id = factory.Sequence(lambda n: f"E{n:05d}")
    name = factory.Faker("name")
    title = "Sales Representative"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if extracted:
            from django.contrib.auth.models import Group

            self.groups.set([Group.objects.get_or_create(name=r)[0] for r in extracted])
        self.save()


def northwind_employees() -> dict[str, Employee]:
    """The real Northwind hierarchy (9 employees) from the project's demo copy, keyed by employeeID."""
    path = Path(settings.DEMO_DATA_DIR) / "employees.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    employees = {
        r["employeeID"]: Employee.objects.create(
            external_id=r["employeeID"], name=f"{r['firstName']} {r['lastName']}", title=r["title"]
        )
        for r in rows
    }
    for r in rows:
        if r["reportsTo"] not in ("", "NULL"):
            employees[r["employeeID"]].manager = employees[r["reportsTo"]]
            employees[r["employeeID"]].save(update_fields=["manager"])
    return employees


def persona(username: str, role: str | None, employee: Employee | None = None) -> User:
    return user_upsert(
        username=username,
        password=PASSWORD,
        roles=[role] if role else [],
        employee_id=employee.pk if employee else None,
    )


__all__ = ["Role", "PASSWORD", "persona", "northwind_employees", "EmployeeFactory", "UserFactory"]
