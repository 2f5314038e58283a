# A team aggregate for top_customers (dashboards/kpi/registry.py, "Team aggregates"), of first-line teams only: each
# customer's rows summed over a sales manager and their reps, read by such a manager whose scope is exactly their
# team. The ranking index (team_id, revenue DESC) INCLUDE (customer, name) gives their top N as an index-only scan of
# N entries, where the per-rep read summed and sorted every (customer, rep) row of the team's reps.
#
# Created empty: a read whose scope matches no snapshot takes the per-rep read, so nothing changes until it is built.
# Where top_customers was built already, a rebuild from its stored rows is recorded as pending (picked up by the
# view's next refresh, at the latest the nightly one). Row-level security: the post_migrate handler.

from django.db import migrations

FORWARD = [
    # A database migrated while 0011 still created top_customers_teams (teams at every level, dropped in session 7)
    # keeps that table and its snapshot rows: neither may be read as first-line teams.
    'DROP TABLE IF EXISTS "top_customers_teams"',
    'DELETE FROM "kpi_team_snapshots" WHERE "aggregate_name" = \'top_customers_teams\'',
    """CREATE TABLE "top_customers_teams" (
    "team_id" bigint, "customer_id" bigint, "customer_name" text, "country" text, "segment" text,
    "revenue" numeric, "order_count" bigint)""",
    'CREATE UNIQUE INDEX "top_customers_teams_key" ON "top_customers_teams" ("team_id", "customer_id") NULLS NOT DISTINCT',
    'CREATE INDEX "top_customers_teams_ranking" ON "top_customers_teams" ("team_id", "revenue" DESC NULLS LAST) '
    'INCLUDE ("customer_id", "customer_name")',
    # A row whose count reached 0 is deleted through this (as on every counted table: migration 0013).
    'CREATE INDEX "top_customers_teams_emptied" ON "top_customers_teams" ("order_count") WHERE "order_count" = 0',
]
BACKWARD = [
    'DELETE FROM "kpi_team_snapshots" WHERE "aggregate_name" = \'top_customers_teams\'',
    'DROP TABLE "top_customers_teams"',
]


def rebuild_where_built(apps, schema_editor):
    state = apps.get_model("dashboards", "KpiViewState")
    pending = apps.get_model("dashboards", "KpiPendingRefresh")
    if state.objects.filter(view_name="top_customers", last_success_at__isnull=False).exists():
        pending.objects.create(view_name="top_customers_teams", months=[], full=True)


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0013_kpi_emptied_rows_index")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(rebuild_where_built, migrations.RunPython.noop),
    ]
