# Placeholder owned by the KPI-views work: creates the KPI views (filled in by that work).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0001_initial"), ("canonical", "0001_initial")]
    operations: list = []
