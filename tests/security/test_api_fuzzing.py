"""Schemathesis fuzzes every operation of the project's own OpenAPI schema (`/api/schema/`, drf-spectacular).

Through the WSGI application in this process (no network, the test database): as a demo persona with an
API token, every response is not a 5xx, has a documented status code and content type, and its body
matches the schema; anonymously, every operation but the token exchange answers 401. Examples are few and
derandomized, so CI runs the same requests every time.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_create
from config.wsgi import application
from dashboards.services.dashboards import dashboard_create
from dashboards.services.widgets import widget_create
from tests.mappings.helpers import field, run, upload_text

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PUBLIC_OPERATIONS = {"auth_token_create"}  # security: [{}] in the schema: it is how a token is obtained
FUZZ = settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def requests_keep_the_test_transaction():
    """As Django's test client does: a request must not close the connection that holds the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def token(executive, settings, tmp_path) -> str:
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return api_token_create(user=executive).key


@pytest.fixture
def real_ids(executive, tmp_path) -> dict:
    """Objects the executive may see, so that fuzzed requests also reach past the 404s."""
    source = upload_text(tmp_path, "id,company,country\nC1,Alfreds,Germany\nC2,Bon app',France\n", user=executive)
    job = run(
        source,
        [field("id", "canonical_customers", "external_id"), field("company", "canonical_customers", "name")],
        user=executive,
    )
    dashboard = dashboard_create(title="Fuzzed", owner=executive)
    widget_create(
        dashboard=dashboard, title="Revenue", chart_type="bar", view_name="monthly_revenue",
        vega_spec={"x": "month", "y": "revenue"},
    )  # fmt: skip
    return {"source_id": source.pk, "dashboard_id": dashboard.pk, "job_id": str(job.pk)}


def aimed_at_real_objects(case, ids: dict):
    """The same case with its ids replaced by ones that exist and that the caller may see (or None)."""
    aimed = False
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name], aimed = ids[name], True
    if isinstance(case.body, dict) and "source_id" in case.body:
        case.body["source_id"], aimed = ids["source_id"], True
    return case if aimed else None


def test_the_schema_documents_every_api_operation():
    operations = {result.ok().definition.raw.get("operationId") for result in schema.get_all_operations()}
    assert operations == {
        "auth_token_create",
        "auth_token_revoke_create",
        "dashboard_data",
        "dashboards_list",
        "job_detail",
        "mapping_execute",
        "mapping_propose_create",
        "mapping_save",
        "question_preview",
        "question_save",
        "sources_create",
    }


@schema.parametrize()
@FUZZ
def test_every_operation_as_the_executive_answers_within_its_schema(case, token, real_ids):
    headers = {"Authorization": f"Token {token}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
    aimed = aimed_at_real_objects(case, real_ids)
    if aimed is not None:
        aimed.call_and_validate(headers=headers, checks=CHECKS)


@schema.parametrize()
@settings(FUZZ, max_examples=4)
def test_every_operation_but_the_token_exchange_refuses_anonymous_callers(case, db, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    response = case.call_and_validate(checks=CHECKS)
    if case.operation.definition.raw["operationId"] in PUBLIC_OPERATIONS:
        return
    if response.status_code == 404:  # a malformed id in the path (/api/jobs/null) matches no URL at all
        with pytest.raises(Resolver404):
            resolve(urlsplit(response.request.url).path)
        return
    assert response.status_code == 401, (case.operation.label, response.status_code, response.text[:300])
    headers = {name.lower(): value for name, value in response.headers.items()}
    assert headers["www-authenticate"] in (["Token"], "Token")
