from django.db import migrations


class Migration(migrations.Migration):
    """Joins the line-amount revenue rule and the distinct-count membership tables, written side by side."""

    dependencies = [
        ("dashboards", "0015_kpi_line_amount_is_the_truth"),
        ("dashboards", "0015_kpi_membership_tables"),
    ]

    operations = []
