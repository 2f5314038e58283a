# One module per concern: refresh.py (KPI refresh engine), dashboard.py (dashboards and widgets).
from dashboards.models.refresh import RefreshJob

__all__ = ["RefreshJob"]
