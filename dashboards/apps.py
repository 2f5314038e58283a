from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _kpi_rls_after_migrate(sender, using="default", **kwargs):
    # KPI tables are created by migrations (and re-created by full refreshes): (re)apply the policies.
    from dashboards.kpi.rls import kpi_rls_ensure

    kpi_rls_ensure()


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = "KPI views and dashboards"

    def ready(self) -> None:
        post_migrate.connect(_kpi_rls_after_migrate, sender=self, dispatch_uid="dashboards_kpi_rls")
        from dashboards import receivers  # (connects the execution_committed receivers)

        receivers.poll_freshness_connect()
        receivers.kept_release_connect()
