# A read finds its team in kpi_team_snapshots by the members' digest through an index, as the reader role: text
# equality may run before the row-level policy, the comparison of id arrays may not, so the policy (team_id = ANY of
# the caller's ids) was checked against every snapshot row of the aggregate first (632 rows x 875 ids for a VP at 10M
# orders: 3 ms of a 3.6 ms read). The digest is md5 of the ids joined by commas (dashboards/sql/kpi_team_snapshot.sql,
# dashboards.kpi.query.members_digest).

from django.db import migrations

FORWARD = [
    'ALTER TABLE "kpi_team_snapshots" ADD COLUMN IF NOT EXISTS "members_digest" text',
    """UPDATE "kpi_team_snapshots" SET "members_digest" = md5(array_to_string("members", ','))""",
    'ALTER TABLE "kpi_team_snapshots" ALTER COLUMN "members_digest" SET NOT NULL',
    'CREATE INDEX IF NOT EXISTS "kpi_team_snapshots_digest" ON "kpi_team_snapshots" ("aggregate_name", "members_digest")',
]
BACKWARD = [
    'DROP INDEX IF EXISTS "kpi_team_snapshots_digest"',
    'ALTER TABLE "kpi_team_snapshots" DROP COLUMN IF EXISTS "members_digest"',
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0027_kpi_rep_performance_teams")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
