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
# API tokens are not here: a Token's primary key is its key, so auditlog would write it (object_pk,
# object_repr); `token_audit_connect` records them by user instead.
AUDITED_MODELS: list[tuple[str, dict]] = [
    ("accounts.User", {"exclude_fields": ["password", "last_login"], "m2m_fields": {"groups", "user_permissions"}}),
    ("auth.Group", {"m2m_fields": {"permissions"}}),
    ("guardian.UserObjectPermission", {}),
    ("guardian.GroupObjectPermission", {}),
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


def token_audit_connect() -> None:
    """Record each API token created or revoked by its user, with no character of its key."""
    from django.db.models.signals import post_delete, post_save
    from rest_framework.authtoken.models import Token

    post_save.connect(_token_saved, sender=Token, dispatch_uid="accounts.audit.token_saved")
    post_delete.connect(_token_deleted, sender=Token, dispatch_uid="accounts.audit.token_deleted")


def _token_saved(sender, instance, created: bool, **kwargs) -> None:
    if created:
        _token_log(instance, action="create", changes={"user": ["None", str(instance.user)]})


def _token_deleted(sender, instance, **kwargs) -> None:
    _token_log(instance, action="delete", changes={"user": [str(instance.user), "None"]})


def _token_log(token, *, action: str, changes: dict) -> None:
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from rest_framework.authtoken.models import Token

    # Every field that would default to the key (object_pk, object_repr) is given.
    LogEntry.objects.log_create(
        token,
        force_log=True,
        content_type=ContentType.objects.get_for_model(Token),
        object_pk=str(token.user_id),
        object_id=token.user_id,
        object_repr=f"API token of {token.user}",
        action=LogEntry.Action.CREATE if action == "create" else LogEntry.Action.DELETE,
        changes=changes,
        serialized_data=None,
    )


# --- The request's actor and address on each LogEntry (MIDDLEWARE) ---------------------------------------------------

_REQUEST_DUID = ("accounts.audit", "request")


class AuditRequestMiddleware:
    """auditlog's middleware (`auditlog.middleware.AuditlogMiddleware`: each LogEntry saved during a request gets its
    actor, remote address and port) without its per-request signal wiring: auditlog connects a `pre_save` receiver
    for LogEntry at every request and disconnects it after (a lock, and the signal's receiver cache emptied for every
    model, per request; two threads starting in the same `time.time()` tick shared a dispatch uid, and one's
    disconnect removed the other's receiver). Here one receiver is connected once per process, and the request's data
    is set in auditlog's context variable for the request only (reset after it, so nothing of one request reaches a
    LogEntry saved outside it in the same thread). auditlog's own `set_actor` inside a request still wins, as before:
    its entries carry its own dispatch uid, which this receiver does not answer."""

    def __init__(self, get_response):
        from auditlog.middleware import AuditlogMiddleware

        self.get_response = get_response
        self._auditlog = AuditlogMiddleware(get_response)  # what it records: get_extra_data (actor, address, port)
        audit_request_receiver_connect()

    def __call__(self, request):
        from auditlog.cid import set_cid
        from auditlog.context import auditlog_value

        set_cid(request)
        data = self._auditlog.get_extra_data(request)
        data["signal_duid"] = _REQUEST_DUID
        token = auditlog_value.set(data)
        try:
            return self.get_response(request)
        finally:
            auditlog_value.reset(token)


def audit_request_receiver_connect() -> None:
    """The one `pre_save` receiver of LogEntry that writes the request's data (`AuditRequestMiddleware`)."""
    from functools import partial

    from auditlog import get_logentry_model
    from auditlog.context import _set_extra_data
    from django.db.models.signals import pre_save

    pre_save.connect(
        partial(_set_extra_data, signal_duid=_REQUEST_DUID),
        sender=get_logentry_model(),
        dispatch_uid="accounts.audit.request_data",
        weak=False,
    )
