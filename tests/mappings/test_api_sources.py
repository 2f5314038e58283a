from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.mappings.conftest import NORTHWIND

ORDERS = (
    "Order Number,Customer Email,Order Date,Total,Status\n"
    '1001,ann@example.com,2024-03-05,"1,250.00",wc-completed\n'
    "1002,bob@example.com,2024-04-11,99.90,wc-pending\n"
)


def _file(name="orders.csv", text=ORDERS):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_upload_returns_the_source_with_its_profile(client, executive):
    client.force_login(executive)
    response = client.post("/api/sources/", {"file": _file()})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "orders.csv"
    assert body["rows"] == 2
    assert body["duplicate"] is False
    columns = {c["name"]: c for c in body["profile"]["columns"]}
    assert columns["Order Date"]["type"] == "date"
    assert columns["Customer Email"]["pii"]["kind"] == "email"
    assert columns["Total"]["type"] == "decimal"


def test_uploading_the_same_file_again_says_so_and_stores_nothing_new(client, executive):
    client.force_login(executive)
    first = client.post("/api/sources/", {"file": _file()}).json()
    again = client.post("/api/sources/", {"file": _file("orders-copy.csv")})

    assert again.status_code == 200
    body = again.json()
    assert body["duplicate"] is True
    assert body["duplicate_of"] == first["id"] == body["id"]
    assert "already uploaded" in body["detail"]
    from mappings.models import DataSource

    assert DataSource.objects.count() == 1


def test_upload_without_a_file_is_a_clear_400(client, executive):
    client.force_login(executive)
    response = client.post("/api/sources/", {})
    assert response.status_code == 400
    assert "file" in response.json()


def test_upload_past_the_size_limit_is_refused_with_the_limit(client, executive, settings):
    settings.UPLOAD_MAX_BYTES = 50
    client.force_login(executive)
    response = client.post("/api/sources/", {"file": _file()})
    assert response.status_code == 400
    assert "upload limit" in response.json()["file"][0]


def test_anonymous_upload_is_401_or_403(client, db):
    response = client.post("/api/sources/", {"file": _file()})
    assert response.status_code in (401, 403)


def test_sales_rep_may_not_upload(client, rep):
    client.force_login(rep)
    assert client.post("/api/sources/", {"file": _file()}).status_code == 403


def test_propose_api_returns_the_contract_shape(client, executive, upload_of):
    source = upload_of(NORTHWIND / "orders.csv", executive)
    client.force_login(executive)
    response = client.post(
        "/api/mapping/propose", {"source_id": source.pk, "domain_hint": None}, content_type="application/json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"file", "rows", "dialect", "proposals"}
    assert body["rows"] == 830
    assert {p["source_col"] for p in body["proposals"]} >= set(source.dialect["columns"])
    for p in body["proposals"]:
        assert set(p) == {"source_col", "canonical_table", "canonical_col", "transform", "confidence", "reason"}
        assert 0 <= p["confidence"] <= 1


def test_propose_api_hides_other_users_uploads(client, executive, analyst, upload_of):
    source = upload_of(NORTHWIND / "orders.csv", executive)
    client.force_login(analyst)
    response = client.post("/api/mapping/propose", {"source_id": source.pk}, content_type="application/json")
    assert response.status_code == 404


def test_propose_api_refuses_outsiders_and_anonymous(client, outsider, executive, upload_of):
    source = upload_of(NORTHWIND / "orders.csv", executive)
    assert client.post(
        "/api/mapping/propose", {"source_id": source.pk}, content_type="application/json"
    ).status_code in (
        401,
        403,
    )
    client.force_login(outsider)
    assert (
        client.post("/api/mapping/propose", {"source_id": source.pk}, content_type="application/json").status_code
        == 403
    )


def test_propose_api_rejects_a_missing_source_id(client, executive):
    client.force_login(executive)
    response = client.post("/api/mapping/propose", {}, content_type="application/json")
    assert response.status_code == 400
    assert "source_id" in response.json()
