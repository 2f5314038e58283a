"""Load the Northwind demo through the normal ingest path and create the demo users (idempotent).

Each file of settings.DEMO_DATA_DIR named by a mapping in demo/mappings/*.json (in file-name order)
is uploaded, mapped with that explicit mapping and executed, exactly as `manage.py ingest
--mapping-file` does. A file already loaded with the same content and mapping is skipped, so a second
run changes nothing. The uploads belong to the executive demo user (DEMO_UPLOADS_OWNER), so that he sees
them under Uploads; admins see every upload anyway.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User
from accounts.services import user_upsert
from canonical.models import Employee
from dashboards.services.demo import demo_dashboards_ensure
from dashboards.services.refresh import kpi_views_refresh_all
from mappings.models import DataSource
from mappings.services.ingest import IngestFailed, ingest_file

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "northwind-demo")
DEMO_USERS = [
    # username, role, Northwind employeeID
    ("fuller", Role.EXECUTIVE, "2"),
    ("buchanan", Role.MANAGER, "5"),
    ("davolio", Role.SALES_REP, "1"),
]
DEMO_UPLOADS_OWNER = "fuller"


def demo_logins_lines() -> list[str]:
    """The demo logins as `make run` and seed_demo print them."""
    return [
        f"Demo logins (password for each: {DEMO_PASSWORD}):",
        *(f"  {username:<10} {role}" for username, role, _ in DEMO_USERS),
        "  admin      Admin (Django admin)",
    ]


def demo_mapping_files() -> list[Path]:
    return sorted((Path(settings.BASE_DIR) / "demo" / "mappings").glob("*.json"))


class Command(BaseCommand):
    help = "Load the Northwind demo through the normal ingest path and create demo users."

    def add_arguments(self, parser):
        parser.add_argument("--skip-data", action="store_true", help="only create the demo users")
        parser.add_argument(
            "--no-logins", action="store_true", help="do not print the logins (`serve --welcome` prints them)"
        )

    def handle(self, *args, **options):
        # The owner of the uploads exists before them; every demo user is linked to his employee after.
        owner = self.demo_user_upsert(*next(u for u in DEMO_USERS if u[0] == DEMO_UPLOADS_OWNER))
        if not options["skip_data"]:
            self.load_northwind(owner)
            kpi_views_refresh_all(full=True)  # every KPI view built from the demo data
        for username, role, employee_ext in DEMO_USERS:
            self.demo_user_upsert(username, role, employee_ext)
        admin = user_upsert(username="admin", password=DEMO_PASSWORD, roles=[Role.ADMIN], is_staff=True)
        admin.is_superuser = True  # manages roles and permissions in Django admin
        admin.save(update_fields=["is_superuser"])
        demo_dashboards_ensure()
        if not options["no_logins"]:
            self.stdout.write("\n" + "\n".join(demo_logins_lines()) + "\n")

    @staticmethod
    def demo_user_upsert(username: str, role: str, employee_ext: str) -> User:
        employee = Employee.objects.filter(external_id=employee_ext).first()
        return user_upsert(
            username=username, password=DEMO_PASSWORD, roles=[role], employee_id=employee.pk if employee else None
        )

    def load_northwind(self, owner: User) -> None:
        data_dir = Path(settings.DEMO_DATA_DIR)
        for mapping_file in demo_mapping_files():
            spec = json.loads(mapping_file.read_text(encoding="utf-8"))
            path = data_dir / spec["file"]
            # Demo uploads seeded before they had an owner are adopted, so that a re-seed finds them loaded.
            if path.is_file():
                DataSource.objects.filter(
                    uploaded_by__isnull=True, name=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest()
                ).update(uploaded_by=owner)
            try:
                source, job = ingest_file(
                    path=path,
                    user=owner,
                    fields=spec["mappings"],
                    options=spec.get("options"),
                    domain=spec.get("domain", ""),
                    reuse_loaded=True,
                )
            except IngestFailed as exc:
                raise CommandError(f"demo file {spec['file']}: {exc}") from None
            if job is None:
                self.stdout.write(f"  {spec['file']}: already loaded (upload #{source.pk})")
                continue
            if job.status != job.Status.SUCCEEDED:
                raise CommandError(f"demo file {spec['file']}: {job.error}")
            counts = ", ".join(
                f"{table.removeprefix('canonical_')}: {c['inserted']} inserted, {c['updated']} updated, "
                f"{c['unchanged']} unchanged, {c['rejected']} rejected"
                for table, c in job.report["tables"].items()
            )
            self.stdout.write(f"  {spec['file']}: {counts}")
