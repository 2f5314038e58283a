# The SQL function employee_subtree(root), defined in accounts/sql/employee_subtree.sql: one definition of a
# manager's subtree for the row scope, the ?team= filter and the team aggregates.

from pathlib import Path

from django.db import migrations

FUNCTION = (Path(__file__).resolve().parents[1] / "sql" / "employee_subtree.sql").read_text(encoding="utf-8")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_role_groups"),
        ("canonical", "0007_orders_sales_rep_index"),
    ]

    operations = [migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS employee_subtree(bigint)")]
