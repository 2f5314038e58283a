from django.db import migrations


class Migration(migrations.Migration):
    """Joins the employee-subtree function and the API-token admin, written side by side."""

    dependencies = [
        ("accounts", "0004_employee_subtree_function"),
        ("accounts", "0005_scrub_token_keys_from_logs"),
    ]

    operations = []
