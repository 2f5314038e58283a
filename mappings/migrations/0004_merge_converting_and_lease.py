from django.db import migrations


class Migration(migrations.Migration):
    """Joins the converting status and the job lease, written side by side."""

    dependencies = [
        ("mappings", "0003_datasource_converting"),
        ("mappings", "0003_executionjob_lease"),
    ]

    operations = []
