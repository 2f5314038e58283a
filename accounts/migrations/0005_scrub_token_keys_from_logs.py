"""Remove API keys that earlier audit and admin log entries hold: a Token's primary key is its key, so
auditlog wrote it to object_pk/object_repr (and most of it to `changes`), and the admin's own log wrote
it as the deleted object's name."""

from django.db import migrations


def scrub(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    token_types = list(ContentType.objects.filter(app_label="authtoken", model__in=["token", "tokenproxy"]))
    if not token_types:
        return
    AuditEntry = apps.get_model("auditlog", "LogEntry")
    for entry in AuditEntry.objects.filter(content_type__in=token_types).iterator():
        user = (entry.changes or {}).get("user") if isinstance(entry.changes, dict) else None
        user_id = next((str(v) for v in (user or []) if v not in (None, "None")), "")
        entry.object_pk = user_id
        entry.object_id = int(user_id) if user_id.isdecimal() else None
        entry.object_repr = f"API token of user {user_id}" if user_id else "API token"
        entry.changes = {"user": user} if user else {}
        entry.changes_text = ""
        entry.serialized_data = None
        entry.save(
            update_fields=["object_pk", "object_id", "object_repr", "changes", "changes_text", "serialized_data"]
        )
    AdminEntry = apps.get_model("admin", "LogEntry")
    AdminEntry.objects.filter(content_type__in=token_types).update(object_repr="API token", change_message="")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_token_admin"),
        ("auditlog", "__latest__"),
        ("admin", "__latest__"),
        ("contenttypes", "__latest__"),
    ]
    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
