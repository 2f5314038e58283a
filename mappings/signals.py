"""Signals of the mappings app.

`execution_committed` is sent once an execution's transaction has committed, with `job=` the
ExecutionJob; `job.report["touched"]` says what changed ({table: {"months", "customer_ids",
"product_ids", "employee_ids"}}), so receivers (the KPI refresh) can refresh only what is affected.
"""

from __future__ import annotations

from django.dispatch import Signal

execution_committed = Signal()
