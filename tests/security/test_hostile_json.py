"""A hostile caller sends JSON nested thousands of levels deep: a 400 that says why, never a 500."""

from __future__ import annotations

import json

import pytest

from accounts.services import api_token_create
from config.parsers import MAX_JSON_DEPTH, json_depth_exceeds

ENDPOINTS = ("/api/auth/token/", "/api/mapping/save")


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_attacker_sends_deeply_nested_json_anonymously(url, depth):
    from django.test import Client

    client = Client(raise_request_exception=False)
    response = client.post(url, _nested(depth), content_type="application/json")
    # Anonymous: the token exchange parses the body (400); every other endpoint refuses the caller first (401).
    assert response.status_code == (400 if url == "/api/auth/token/" else 401)
    assert response.headers["Content-Type"] == "application/json"
    if response.status_code == 400:
        assert f"nested deeper than {MAX_JSON_DEPTH} levels" in response.json()["detail"]


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("how", ["session", "token"])
def test_logged_in_attacker_sends_deeply_nested_json(url, how, executive):
    from django.test import Client

    client = Client(raise_request_exception=False)
    headers = {}
    if how == "session":
        client.force_login(executive)
    else:
        headers["HTTP_AUTHORIZATION"] = f"Token {api_token_create(user=executive).key}"
    response = client.post(url, _nested(100_000), content_type="application/json", **headers)
    assert response.status_code == 400
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in response.json()["detail"]


def test_attacker_sends_a_wide_object_whose_one_branch_is_too_deep(executive):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(executive)
    body = {"source_id": 1, "fields": [{"a": 1}] * 1000 + [json.loads(_nested(MAX_JSON_DEPTH))]}
    response = client.post("/api/mapping/save", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]


def test_depth_limit_counts_containers_not_values():
    assert not json_depth_exceeds(json.loads(_nested(MAX_JSON_DEPTH)), MAX_JSON_DEPTH)
    assert json_depth_exceeds(json.loads(_nested(MAX_JSON_DEPTH + 1)), MAX_JSON_DEPTH)
    assert not json_depth_exceeds({"a": {"b": "x" * 10_000}}, 2)
    assert json_depth_exceeds({"a": [{"b": []}]}, 3)
    assert not json_depth_exceeds("plain", 0)


def test_an_ordinary_body_still_reaches_the_endpoint(rep):
    from django.test import Client

    from tests.factories import PASSWORD

    client = Client()
    body = {"username": rep.username, "password": PASSWORD}
    response = client.post("/api/auth/token/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201
