"""The optional LLM, through a fake HTTP transport: the real SDK builds and parses real HTTP, no network."""

from __future__ import annotations

import json
import uuid

import httpx2 as httpx
import pytest

from mappings.proposer import llm
from mappings.services.propose import mapping_propose


@pytest.fixture
def transport(monkeypatch, settings):
    """Install a fake Anthropic API; returns the list of requests it saw. Set `.reply` to a handler."""
    settings.ANTHROPIC_API_KEY = "test-key"
    settings.LLM_TIMEOUT_SECONDS = 2
    seen: list[dict] = []

    class Fake:
        reply = None

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        seen.append({"url": str(request.url), "body": json.loads(request.content), "headers": headers})
        return Fake.reply(request)

    monkeypatch.setattr(llm, "HTTP_TRANSPORT", httpx.MockTransport(handler))
    # Answers are cached in Redis per prompt version: each test asks as if for the first time.
    monkeypatch.setattr(llm, "PROMPT_VERSION", f"test-{uuid.uuid4()}")
    Fake.seen = seen
    return Fake


def _tool_answer(mappings: list[dict]) -> callable:
    def reply(request):
        return httpx.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-test",
                "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": llm.TOOL_NAME, "input": {"mappings": mappings}}
                ],
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 10},
            },
        )

    return reply


@pytest.fixture
def source(db, executive, upload_of, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(
        "Customer ID,Name,Zone,Gizmo\n"
        + "".join(f"C{i},Client {i},{['EMEA', 'APAC'][i % 2]},x{i}\n" for i in range(20))
    )
    return upload_of(path, executive)


def _by_col(document):
    return {p["source_col"]: p for p in document["proposals"]}


def test_without_a_key_no_request_is_made(db, source, executive, monkeypatch, settings):
    settings.ANTHROPIC_API_KEY = ""
    monkeypatch.setattr(llm, "HTTP_TRANSPORT", httpx.MockTransport(lambda r: pytest.fail("no request expected")))
    notes: list[str] = []
    mapping_propose(source=source, user=executive, notes=notes)
    assert notes == []


def test_the_llm_is_asked_with_a_forced_tool_and_its_agreement_raises_confidence(
    transport, source, executive, settings
):
    settings.ANTHROPIC_API_KEY = ""
    offline = _by_col(mapping_propose(source=source, user=executive))
    settings.ANTHROPIC_API_KEY = "test-key"
    transport.reply = _tool_answer(
        [{"source_col": "Customer ID", "target": "canonical_customers.external_id", "confidence": 0.9}]
    )
    notes: list[str] = []
    merged = _by_col(mapping_propose(source=source, user=executive, notes=notes))

    request = transport.seen[-1]
    assert request["url"].endswith("/v1/messages")
    assert any("test-key" in value for value in request["headers"].values())  # the key is sent
    assert request["body"]["tool_choice"] == {"type": "tool", "name": llm.TOOL_NAME}
    assert "Customer ID" in request["body"]["messages"][0]["content"]
    assert merged["Customer ID"]["confidence"] > offline["Customer ID"]["confidence"]
    assert "LLM agrees" in merged["Customer ID"]["reason"]
    assert "Checked by" in notes[0]


def test_a_weak_column_takes_the_llm_target_when_values_fit_but_stays_below_auto_accept(
    transport, source, executive, settings
):
    transport.reply = _tool_answer(
        [{"source_col": "Zone", "target": "canonical_customers.segment", "confidence": 0.95, "reason": "regions"}]
    )
    zone = _by_col(mapping_propose(source=source, user=executive))["Zone"]
    assert (zone["canonical_table"], zone["canonical_col"]) == ("canonical_customers", "segment")
    assert zone["confidence"] < settings.MAPPING_AUTO_CONFIDENCE  # only the LLM says so: a person decides
    assert "the LLM suggests" in zone["reason"]


def test_answers_outside_the_schema_or_the_file_are_ignored(transport, source, executive):
    transport.reply = _tool_answer(
        [{"source_col": "Gizmo", "target": "canonical_customers.password", "confidence": 1},
         {"source_col": "Not a column", "target": "canonical_customers.name", "confidence": 1},
         {"source_col": "Zone", "target": "canonical_orders.amount", "confidence": 1}]
    )  # fmt: skip
    by_col = _by_col(mapping_propose(source=source, user=executive))
    # Not the LLM's column outside the schema: kept as it is, an attribute (mappings/proposer/attributes.py).
    assert by_col["Gizmo"]["canonical_col"] == "attributes.gizmo"
    assert by_col["Zone"]["canonical_col"] != "amount"  # text values do not fit money


def test_disagreement_keeps_the_confident_offline_match(transport, source, executive):
    transport.reply = _tool_answer(
        [{"source_col": "Customer ID", "target": "canonical_orders.customer_id", "confidence": 1}]
    )
    cid = _by_col(mapping_propose(source=source, user=executive))["Customer ID"]
    assert cid["canonical_col"] == "external_id"
    assert "the LLM suggested canonical_orders.customer_id instead" in cid["reason"]


def test_an_http_error_falls_back_to_the_offline_proposal_with_a_note(transport, source, executive):
    transport.reply = lambda request: httpx.Response(500, json={"type": "error", "error": {"type": "api_error"}})
    notes: list[str] = []
    document = mapping_propose(source=source, user=executive, notes=notes)
    assert _by_col(document)["Customer ID"]["canonical_col"] == "external_id"
    assert notes == ["Offline proposal only: the LLM service answered HTTP 500."]


def test_a_timeout_falls_back_to_the_offline_proposal_with_a_note(transport, source, executive):
    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)

    transport.reply = slow
    notes: list[str] = []
    document = mapping_propose(source=source, user=executive, notes=notes)
    assert _by_col(document)["Name"]["canonical_col"] == "name"
    assert notes == ["Offline proposal only: the LLM did not answer within 2 s."]


def test_an_answer_without_the_tool_call_falls_back(transport, source, executive):
    transport.reply = lambda request: httpx.Response(
        200,
        json={"id": "m", "type": "message", "role": "assistant", "model": "x", "stop_reason": "end_turn",
              "stop_sequence": None, "content": [{"type": "text", "text": "I think..."}],
              "usage": {"input_tokens": 1, "output_tokens": 1}},
    )  # fmt: skip
    notes: list[str] = []
    mapping_propose(source=source, user=executive, notes=notes)
    assert notes == ["Offline proposal only: the LLM answered without the structured mapping."]


def test_the_review_page_shows_the_fallback_note(transport, source, executive, client):
    transport.reply = lambda request: httpx.Response(503, json={"type": "error", "error": {"type": "overloaded"}})
    client.force_login(executive)
    page = client.get(f"/uploads/{source.pk}/review/").content.decode()
    assert "Offline proposal only: the LLM service answered HTTP 503." in page


def test_values_of_a_pii_column_never_reach_the_prompt_only_their_shapes(transport, executive, upload_of, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("Customer ID,Email\n" + "".join(f"C{i},person{i}@example.org\n" for i in range(20)))
    source = upload_of(path, executive)
    transport.reply = _tool_answer([{"source_col": "Email", "target": "canonical_customers.email", "confidence": 0.9}])
    mapping_propose(source=source, user=executive)
    prompt = transport.seen[0]["body"]["messages"][0]["content"]
    assert "@example.org" not in prompt
    assert "aaaaaa9@aaaaaaa.aaa" in prompt  # the shape of person1@example.org


def test_the_llm_is_asked_once_per_file_model_and_prompt_version(transport, source, executive, settings):
    transport.reply = _tool_answer([{"source_col": "Zone", "target": "canonical_customers.segment", "confidence": 0.9}])
    first = mapping_propose(source=source, user=executive)
    second = mapping_propose(source=source, user=executive)  # the review page shown again
    assert len(transport.seen) == 1
    assert first["proposals"] == second["proposals"]
    settings.ANTHROPIC_MODEL = "another-model"
    mapping_propose(source=source, user=executive)
    assert len(transport.seen) == 2
