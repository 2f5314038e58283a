"""The audit trail: who changed what, and when, for the records whose changes matter to access and data.

django-auditlog stores one LogEntry per create/update/delete (and per change of a tracked many-to-many,
such as a user's role groups), with the acting user taken from the request by its middleware. Admins
read the trail in Django admin (Audit log → Log entries); nobody can edit or delete an entry there.

Models of other apps are registered by name, if they exist, so that an app can grow without this
module having to import it early.
"""

from __future__ import annotations

from django.apps import apps

# (app_label.ModelName, options for auditlog.register). Secrets and hashes are never written to the trail.
AUDITED_MODELS: list[tuple[str, dict]] = [
    ("accounts.User", {"exclude_fields": ["password", "last_login"], "m2m_fields": {"groups", "user_permissions"}}),
    ("auth.Group", {"m2m_fields": {"permissions"}}),
    ("guardian.UserObjectPermission", {}),
    ("guardian.GroupObjectPermission", {}),
    ("authtoken.Token", {"mask_fields": ["key"]}),
    ("mappings.Mapping", {}),
    ("mappings.FieldMapping", {}),
    # The report stays on the job; the trail records who ran what and how it ended. (A report lists the keys the
    # KPI refresh needs, a million customer ids at 10M orders: copied into each entry, it cost storage and time.)
    ("mappings.ExecutionJob", {"exclude_fields": ["progress", "stage", "report"]}),
    ("dashboards.Dashboard", {}),
    ("dashboards.Widget", {}),
    ("dashboards.DashboardShare", {}),
]


def audit_register_models() -> list[str]:
    """Register every audited model that exists; returns their labels."""
    from auditlog.registry import auditlog

    registered = []
    for label, options in AUDITED_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        if not auditlog.contains(model):
            auditlog.register(model, **options)
        registered.append(label)
    return registered
