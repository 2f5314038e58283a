"""Optional second opinion from an LLM on a mapping proposal (only when settings.ANTHROPIC_API_KEY is set).

The official `anthropic` SDK is asked, through a forced tool call, for one target per column. Its answer
is validated against the canonical schema (unknown tables, columns or headers are dropped) and merged
with the deterministic evidence, never trusted blindly:
  - agreement raises the deterministic confidence a little;
  - a column the offline matcher left unmapped or weak may take the LLM's target, when the column's
    values fit it and no other column holds it, but below `ingest --auto`'s threshold
    (settings.MAPPING_AUTO_CONFIDENCE): a person reviews what only the LLM proposed;
  - disagreement with a confident offline match keeps the offline match and notes the suggestion.
Any failure (no key, timeout, HTTP error, malformed answer) leaves the offline proposal as it is, with
a note saying why. The prompt carries the shapes of a PII-flagged column's values ("Aaaa@aaaa.aaa"),
never the values; an answer is cached per (prompt, model, PROMPT_VERSION), so a review page shown again
does not ask again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache

from canonical.schema import TABLES, TABLES_BY_NAME
from mappings.proposer.scoring import Target, value_fit

if TYPE_CHECKING:
    import anthropic

log = logging.getLogger(__name__)

TOOL_NAME = "propose_mapping"
PROMPT_VERSION = 2  # bump when the prompt or the tool changes: cached answers are then asked afresh
CACHE_SECONDS = 7 * 24 * 3600
# Tests inject a fake HTTP transport here (httpx MockTransport): no network in tests.
HTTP_TRANSPORT = None


class LlmUnavailable(Exception):
    """The LLM could not help this time; the message is the note shown to the user."""


def llm_enabled() -> bool:
    return bool(settings.ANTHROPIC_API_KEY)


def llm_client() -> anthropic.Anthropic:
    import anthropic  # imported when asked (1.2-1.7 s): `ingest --auto` imports this module and never asks offline

    http_client = None
    if HTTP_TRANSPORT is not None:
        import httpx2

        http_client = httpx2.Client(transport=HTTP_TRANSPORT)
    return anthropic.Anthropic(
        api_key=settings.ANTHROPIC_API_KEY,
        timeout=float(settings.LLM_TIMEOUT_SECONDS),
        max_retries=0,  # a slow answer is worse than none: the offline proposal is already there
        http_client=http_client,
    )


def _tool_schema() -> dict:
    targets = [f"{t.name}.{c.name}" for t in TABLES for c in t.columns]
    return {
        "name": TOOL_NAME,
        "description": "Map each source column of a business CSV export onto the canonical schema.",
        "input_schema": {
            "type": "object",
            "properties": {
                "mappings": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "source_col": {"type": "string"},
                            "target": {"type": ["string", "null"], "enum": [*targets, None]},
                            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                            "reason": {"type": "string"},
                        },
                        "required": ["source_col", "target", "confidence"],
                    },
                }
            },
            "required": ["mappings"],
        },
    }


def value_shape(value: str) -> str:
    """A value with its letters and digits masked ("Ann@x.de" → "Aaa@a.aa"): what a column looks like,
    without whose data it is."""
    return re.sub(r"[0-9]", "9", re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", str(value))))


def _samples(column: dict) -> list[str]:
    samples = column.get("samples", [])[:5]
    return [value_shape(v) for v in samples] if column.get("pii") else samples


def _prompt(file: str, profile: dict) -> str:
    schema = {t.name: [c.name for c in t.columns] for t in TABLES}
    columns = [
        {
            "header": c["name"],
            "type": c.get("type"),
            "samples": _samples(c),
            "distinct": c.get("distinct"),
            **({"pii": c["pii"].get("kind"), "samples_are": "shapes"} if c.get("pii") else {}),
        }
        for c in profile.get("columns", [])
    ]
    return (
        f"File {file!r}. Canonical schema (table: columns): {json.dumps(schema)}.\n"
        f"Source columns with inferred types and sample values: {json.dumps(columns, ensure_ascii=False)}.\n"
        "For every source column give the canonical table.column it feeds, or null when it feeds none. "
        "Use the tool."
    )


def llm_suggest(*, file: str, profile: dict) -> dict[str, dict]:
    """source_col → {"target", "confidence", "reason"} from the LLM, validated; raises LlmUnavailable."""
    if not llm_enabled():
        raise LlmUnavailable("no ANTHROPIC_API_KEY")
    import anthropic

    prompt = _prompt(file, profile)
    key = "llm:" + hashlib.sha256(f"{PROMPT_VERSION}\0{settings.ANTHROPIC_MODEL}\0{prompt}".encode()).hexdigest()
    cached = _cache_get(key)
    if cached is not None:
        return cached
    try:
        message = llm_client().messages.create(
            model=settings.ANTHROPIC_MODEL,
            max_tokens=4000,
            tools=[_tool_schema()],
            tool_choice={"type": "tool", "name": TOOL_NAME},
            messages=[{"role": "user", "content": prompt}],
        )
    except anthropic.APITimeoutError as exc:
        raise LlmUnavailable(f"the LLM did not answer within {settings.LLM_TIMEOUT_SECONDS} s") from exc
    except anthropic.APIStatusError as exc:
        raise LlmUnavailable(f"the LLM service answered HTTP {exc.status_code}") from exc
    except anthropic.AnthropicError as exc:
        raise LlmUnavailable(f"the LLM could not be reached ({type(exc).__name__})") from exc
    block = next((b for b in message.content if getattr(b, "type", "") == "tool_use"), None)
    if block is None or not isinstance(getattr(block, "input", None), dict):
        raise LlmUnavailable("the LLM answered without the structured mapping")
    headers = {c["name"] for c in profile.get("columns", [])}
    suggestions: dict[str, dict] = {}
    for item in block.input.get("mappings") or []:
        if not isinstance(item, dict) or item.get("source_col") not in headers:
            continue
        target = item.get("target")
        if target is not None:
            table, _, col = str(target).partition(".")
            if table not in TABLES_BY_NAME or col not in TABLES_BY_NAME[table].column_names:
                continue  # not in the schema: ignored, whatever the model says
        try:
            confidence = max(0.0, min(1.0, float(item.get("confidence", 0))))
        except (TypeError, ValueError):
            continue
        suggestions[item["source_col"]] = {
            "target": target,
            "confidence": confidence,
            "reason": str(item.get("reason") or "")[:200],
        }
    if not suggestions:
        raise LlmUnavailable("the LLM's answer named no column of this file")
    _cache_set(key, suggestions)
    return suggestions


def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # a cache outage only costs a new question
        log.warning("LLM answer cache unavailable", exc_info=True)
        return None


def _cache_set(key: str, value: dict) -> None:
    try:
        cache.set(key, value, CACHE_SECONDS)
    except Exception:  # as above
        log.warning("LLM answer cache unavailable", exc_info=True)


def llm_merge(*, document: dict, profile: dict, suggestions: dict[str, dict]) -> dict:
    """The deterministic document with the LLM's suggestions merged in (see the module docstring)."""
    columns = {c["name"]: c for c in profile.get("columns", [])}
    taken = {f"{p['canonical_table']}.{p['canonical_col']}" for p in document["proposals"] if p["canonical_table"]}
    merged = []
    seen: set[str] = set()
    for p in document["proposals"]:
        p = dict(p)
        col = p["source_col"]
        hint = suggestions.get(col) if col not in seen else None
        seen.add(col)
        current = f"{p['canonical_table']}.{p['canonical_col']}" if p["canonical_table"] else None
        if hint is None:
            merged.append(p)
            continue
        if hint["target"] == current:
            if current:
                p["confidence"] = round(min(0.99, p["confidence"] + 0.04), 3)
            p["reason"] += "; the LLM agrees"
        elif current is None or p["confidence"] < 0.6:
            target = hint["target"]
            fit = value_fit(columns.get(col, {}), Target(*target.split("."))) if target else (1.0, "")
            if target and target not in taken and fit[0] >= 0.9 and hint["confidence"] >= 0.6:
                table, name = target.split(".")
                taken.add(target)
                taken.discard(current)
                p.update(
                    canonical_table=table,
                    canonical_col=name,
                    # Only the LLM says so: never enough for --auto, a person decides.
                    confidence=round(min(settings.MAPPING_AUTO_CONFIDENCE - 0.05, hint["confidence"] * 0.8), 3),
                    reason=f"the LLM suggests {target} ({hint['reason'] or 'no reason given'}); "
                    f"offline evidence was weak: {p['reason']}",
                )
            elif target:
                p["reason"] += f"; the LLM suggested {target}, not taken (values do not fit or target is taken)"
        else:
            p["confidence"] = round(max(0.0, p["confidence"] - 0.08), 3)
            p["reason"] += f"; the LLM suggested {hint['target'] or 'leaving it unmapped'} instead"
        merged.append(p)
    return {**document, "proposals": merged}


def llm_review(*, document: dict, profile: dict, notes: list[str] | None = None) -> dict:
    """Merge the LLM's opinion into `document` when a key is configured; on any failure return `document`
    unchanged and append the reason to `notes`."""
    if not llm_enabled():
        return document
    try:
        suggestions = llm_suggest(file=document["file"], profile=profile)
    except LlmUnavailable as exc:
        log.warning("LLM fallback for %s: %s", document["file"], exc)
        if notes is not None:
            notes.append(f"Offline proposal only: {exc}.")
        return document
    if notes is not None:
        notes.append(f"Checked by {settings.ANTHROPIC_MODEL}: its suggestions are merged with the offline evidence.")
    return llm_merge(document=document, profile=profile, suggestions=suggestions)
