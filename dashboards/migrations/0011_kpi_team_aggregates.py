# Team aggregates (dashboards/kpi/registry.py, "Team aggregates"): top_products summed per team (every employee with
# reports: the employee and everyone below them), read by a manager whose scope is exactly one team, and the
# hierarchy snapshot it was built with. The ranking index (team_id, revenue DESC) INCLUDE (entity,
# name) gives a manager's top N as an index-only scan of N entries, where the per-rep read summed and sorted
# thousands of (entity, rep) rows.
#
# Created empty: a read whose scope matches no snapshot takes the per-rep read, so nothing changes until they are
# built. Where the views were built already, a rebuild from the views' stored rows is recorded as pending (picked up
# by the views' next refresh, at the latest the nightly one). Row-level security: the post_migrate handler.

from django.db import migrations

TEAM_TABLES = {
    "top_products_teams": (
        "top_products",
        """CREATE TABLE "top_products_teams" (
    "team_id" bigint, "product_id" bigint, "product_name" text, "category" text,
    "revenue" numeric, "quantity" numeric, "line_count" bigint)""",
        ["product_id", "product_name"],
    ),
}

FORWARD = [
    """CREATE TABLE "kpi_team_snapshots" (
    "aggregate_name" text NOT NULL, "team_id" bigint NOT NULL, "members" bigint[] NOT NULL,
    PRIMARY KEY ("aggregate_name", "team_id"))""",
    # A read looks its scope's id list up here: a hash index holds any length of list (a btree entry could not
    # hold a CEO's thousands of members).
    'CREATE INDEX "kpi_team_snapshots_members" ON "kpi_team_snapshots" USING hash ("members")',
]
BACKWARD = ['DROP TABLE "kpi_team_snapshots"']
for name, (_parent, create, ranked) in TEAM_TABLES.items():
    entity = ranked[0]
    included = ", ".join(f'"{c}"' for c in ranked)
    FORWARD += [
        create,
        f'CREATE UNIQUE INDEX "{name}_key" ON "{name}" ("team_id", "{entity}") NULLS NOT DISTINCT',
        f'CREATE INDEX "{name}_ranking" ON "{name}" ("team_id", "revenue" DESC NULLS LAST) INCLUDE ({included})',
    ]
    BACKWARD.append(f'DROP TABLE "{name}"')


def rebuild_where_built(apps, schema_editor):
    state = apps.get_model("dashboards", "KpiViewState")
    pending = apps.get_model("dashboards", "KpiPendingRefresh")
    for name, (parent, _create, _ranked) in TEAM_TABLES.items():
        if state.objects.filter(view_name=parent, last_success_at__isnull=False).exists():
            pending.objects.create(view_name=name, months=[], full=True)


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0010_top_products_covering_scope")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(rebuild_where_built, migrations.RunPython.noop),
    ]
