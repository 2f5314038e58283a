# The access generation (accounts/sql/access_generation.sql): triggers on the tables that decide roles, the row
# scope and shares. Dashboards and their widgets are watched by dashboards migration 0023.

from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parents[1] / "sql" / "access_generation.sql").read_text(encoding="utf-8")

WATCHED = """
SELECT access_generation_watch('accounts_user', ARRAY['id', 'employee_id', 'is_active', 'is_superuser']);
SELECT access_generation_watch('accounts_user_groups');
SELECT access_generation_watch('auth_group', ARRAY['id', 'name']);
SELECT access_generation_watch('canonical_employees', ARRAY['id', 'manager_id']);
SELECT access_generation_watch('guardian_userobjectpermission');
SELECT access_generation_watch('guardian_groupobjectpermission');
"""

UNWATCHED = """
DROP TRIGGER IF EXISTS access_generation_bump ON accounts_user;
DROP TRIGGER IF EXISTS access_generation_bump ON accounts_user_groups;
DROP TRIGGER IF EXISTS access_generation_bump ON auth_group;
DROP TRIGGER IF EXISTS access_generation_bump ON canonical_employees;
DROP TRIGGER IF EXISTS access_generation_bump ON guardian_userobjectpermission;
DROP TRIGGER IF EXISTS access_generation_bump ON guardian_groupobjectpermission;
DROP FUNCTION IF EXISTS access_generation_watch(regclass, text[]);
DROP FUNCTION IF EXISTS access_generation_bump();
DROP TABLE IF EXISTS access_generation;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_merge_subtree_and_tokens"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("canonical", "0011_merge_0010_attributes_0010_row_ownership"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
    ]

    operations = [migrations.RunSQL(SQL + WATCHED, UNWATCHED)]
