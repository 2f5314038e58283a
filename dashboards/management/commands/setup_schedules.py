"""Create or update the celery-beat schedules (run on deploy; `make run` runs it)."""

from django.core.management.base import BaseCommand

from dashboards.services.schedules import schedules_ensure


class Command(BaseCommand):
    help = "Create the periodic tasks in django-celery-beat's database scheduler (idempotent)."

    def handle(self, *args, **options):
        created = schedules_ensure()
        self.stdout.write(f"Schedules ensured ({created} created).")
