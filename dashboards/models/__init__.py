# One module per concern: refresh.py (KPI refresh engine), dashboard.py (dashboards and widgets).
from dashboards.models.dashboard import Dashboard, Widget
from dashboards.models.kept import KeptQuestion
from dashboards.models.refresh import KpiAlert, KpiPendingRefresh, KpiViewState, RefreshJob

__all__ = ["Dashboard", "KeptQuestion", "KpiAlert", "KpiPendingRefresh", "KpiViewState", "RefreshJob", "Widget"]
