"""Role and permission changes, API tokens and mapping versions leave an audit trail that admins can read."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from accounts.models import Role
from accounts.services import api_token_create
from tests.factories import PASSWORD, persona


def _entries_for(obj):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk))


def test_giving_a_user_a_role_in_admin_records_who_and_what(client, rep, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    executive_group = Group.objects.get(name=Role.EXECUTIVE)
    client.force_login(root)

    rep.groups.add(executive_group)

    entry = _entries_for(rep).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert "groups" in entry.changes_dict
    assert Role.EXECUTIVE in str(entry.changes_dict["groups"])


def test_admin_edit_through_the_admin_site_is_attributed_to_the_admin(client, rep, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(root)
    response = client.post(
        f"/admin/accounts/user/{rep.pk}/change/",
        {
            "username": rep.username,
            "first_name": "Nancy",
            "last_name": "Davolio",
            "email": "nancy@example.com",
            "is_active": "on",
            "groups": [Group.objects.get(name=Role.MANAGER).pk],
            "date_joined_0": "2020-01-01",
            "date_joined_1": "00:00:00",
            "employee": rep.employee_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entries = _entries_for(rep).filter(actor=root)
    assert entries.exists()
    changed = set()
    for entry in entries:
        changed |= set(entry.changes_dict)
    assert {"first_name", "groups"} <= changed


def test_password_hashes_never_reach_the_trail(rep):
    rep.set_password("another-long-password")
    rep.save()
    for entry in _entries_for(rep):
        assert "password" not in entry.changes_dict
        assert "md5$" not in str(entry.changes)


def test_token_keys_are_masked_in_the_trail(rep):
    token = api_token_create(user=rep)
    entry = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(token)).latest("timestamp")
    assert token.key not in str(entry.changes)


def test_a_saved_mapping_version_is_recorded(executive, tmp_path, settings):
    import io

    from mappings.models import Mapping
    from mappings.services.upload import data_source_create

    settings.UPLOAD_DIR = tmp_path
    source = data_source_create(file=io.BytesIO(b"a,b\n1,2\n"), name="x.csv", user=executive)
    mapping = Mapping.objects.create(source=source, version=1, created_by=executive)
    assert _entries_for(mapping).filter(action=LogEntry.Action.CREATE).exists()


def test_an_execution_is_recorded_with_who_ran_it_and_how_it_ended_but_not_a_copy_of_its_report(
    executive, tmp_path, settings
):
    from mappings.models import ExecutionJob
    from tests.mappings.helpers import ORDER_FIELDS, run, upload_text

    settings.UPLOAD_DIR = tmp_path / "uploads"
    text = "order,date,amount,customer,rep\nO1,2024-01-05,10.00,K1,E1\n"
    job = run(upload_text(tmp_path, text, name="o.csv", user=executive), ORDER_FIELDS, user=executive)

    assert job.status == ExecutionJob.Status.SUCCEEDED and job.report["tables"]["canonical_orders"]["inserted"] == 1
    entries = _entries_for(job)
    created = entries.get(action=LogEntry.Action.CREATE)
    assert created.changes_dict["created_by"][1] == executive.pk
    assert created.changes_dict["mapping"][1] == job.mapping_id
    finished = entries.filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert finished.changes_dict["status"][1] == ExecutionJob.Status.SUCCEEDED
    assert all("report" not in e.changes_dict for e in entries)


def test_admins_can_read_the_trail_and_nobody_can_edit_it(client, rep, django_user_model):
    admin = persona("admin", Role.ADMIN)
    rep.groups.add(Group.objects.get(name=Role.MANAGER))
    entry = _entries_for(rep).latest("timestamp")
    client.force_login(admin)
    assert client.get("/admin/auditlog/logentry/").status_code == 200
    assert client.get(f"/admin/auditlog/logentry/{entry.pk}/change/").status_code == 200
    response = client.post(f"/admin/auditlog/logentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_non_admins_cannot_read_the_trail(client, executive, rep):
    for user in (executive, rep):
        client.force_login(user)
        response = client.get("/admin/auditlog/logentry/")
        assert response.status_code == 302
        assert "/login/" in response.url


def test_a_request_connects_no_signal_receiver_and_leaves_no_actor_behind(client, rep, django_user_model):
    # accounts.audit.AuditRequestMiddleware: one pre_save receiver per process (auditlog's middleware connected and
    # disconnected one per request), and the request's actor is not left in the thread for saves after the request.
    from auditlog.context import auditlog_value
    from django.db.models.signals import pre_save

    root = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(root)
    assert client.get("/dashboards/").status_code == 200
    receivers = list(pre_save.receivers)
    connect = pre_save.connect
    connected = []
    pre_save.connect = lambda *a, **kw: connected.append(kw) or connect(*a, **kw)
    try:
        assert client.get("/dashboards/").status_code == 200
    finally:
        del pre_save.connect
    assert connected == [] and pre_save.receivers == receivers
    assert auditlog_value.get(None) is None or auditlog_value.get().get("actor") != root
    rep.first_name = "Outside"
    rep.save()  # not in a request: no actor
    assert _entries_for(rep).filter(action=LogEntry.Action.UPDATE).latest("timestamp").actor is None
