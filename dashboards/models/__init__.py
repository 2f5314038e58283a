# One module per concern: refresh.py (KPI refresh engine), dashboard.py (dashboards and widgets).
from dashboards.models.dashboard import Dashboard, Widget
from dashboards.models.refresh import KpiAlert, KpiPendingRefresh, KpiViewState, RefreshJob

__all__ = ["Dashboard", "KpiAlert", "KpiPendingRefresh", "KpiViewState", "RefreshJob", "Widget"]
