# Who may see a dashboard and which widgets it has are part of what cached poll contexts hold: their tables bump the
# access generation too (accounts/sql/access_generation.sql).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0022_merge_monthly_and_team_rows"),
        ("accounts", "0007_access_generation"),
    ]

    operations = [
        migrations.RunSQL(
            "SELECT access_generation_watch('dashboards'); SELECT access_generation_watch('dashboard_widgets');",
            "DROP TRIGGER IF EXISTS access_generation_bump ON dashboards; "
            "DROP TRIGGER IF EXISTS access_generation_bump ON dashboard_widgets;",
        )
    ]
