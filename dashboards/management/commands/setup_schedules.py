"""Create or update the celery-beat schedules (run on deploy; `make run` runs it)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the periodic tasks in django-celery-beat's database scheduler (idempotent)."

    def handle(self, *args, **options):
        try:
            from dashboards.services.schedules import schedules_ensure
        except ImportError:
            self.stdout.write("No KPI schedules defined yet.")
            return
        created = schedules_ensure()
        self.stdout.write(f"Schedules ensured ({created} created).")
