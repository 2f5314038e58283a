"""Proposing a mapping for an upload: the offline proposer, what users mapped before, and the LLM's review."""

from __future__ import annotations

from canonical.models import AttributeKey
from mappings.models import DataSource
from mappings.proposer.attributes import keep_as_attributes
from mappings.proposer.line_price import lines_without_price, product_price_proposal
from mappings.proposer.llm import llm_review
from mappings.proposer.minor_units import divided
from mappings.proposer.propose import propose_from_profile, proposed_grain
from mappings.selectors import known_keys, learned_mappings, money_in_minor_units, product_keys_priced
from mappings.services.profile import data_source_profile
from mappings.services.storage import upload_readable_local


def mapping_propose(
    *, source: DataSource, domain_hint: str | None = None, user=None, notes: list[str] | None = None
) -> dict:
    """Proposals for an upload, in the contract's shape:
    {"file", "rows", "dialect", "proposals": [{"source_col", "canonical_table", "canonical_col",
    "transform", "confidence", "reason"}]}. Profiles the source first if it has no profile yet.
    A lines file with a product and a quantity but no price gets its unit price from the products already
    loaded, as far as they price its product keys (mappings/proposer/line_price.py). With ANTHROPIC_API_KEY
    set, an LLM's opinion is merged in (mappings/proposer/llm.py); what happened with it is appended to
    `notes`. The columns left unmapped are then proposed as attributes
    (mappings/proposer/attributes.py). Writes nothing but the profile.
    """

    profile = source.profile if source.profile.get("columns") else data_source_profile(source=source)
    document = propose_from_profile(
        file=source.name,
        profile=profile,
        dialect=source.dialect,
        domain_hint=domain_hint or source.domain or None,
        learned=learned_mappings(user=user, headers=[c["name"] for c in profile.get("columns", [])]),
        known_keys=known_keys(profile=profile),
        notes=notes,
    )
    document["rows"] = source.rows if source.rows is not None else document["rows"]
    if source.file_path:
        with upload_readable_local(source):
            document = with_line_price(document, profile=profile, file_path=source.file_path, dialect=source.dialect)
            found = money_in_minor_units(
                proposals=document["proposals"], profile=profile, file_path=source.file_path, dialect=source.dialect
            )
            document = {**document, "proposals": divided(document["proposals"], found)}
    document = llm_review(document=document, profile=profile, notes=notes)
    # Last, so that the columns kept as attributes are those neither the proposer nor the LLM could place.
    registered = {(t, k): kind for t, k, kind in AttributeKey.objects.values_list("table", "key", "type")}
    return {
        **document,
        "proposals": keep_as_attributes(proposals=document["proposals"], profile=profile, registered=registered),
    }


def with_line_price(document: dict, *, profile: dict, file_path: str, dialect: dict) -> dict:
    """The proposal document, plus a line price from the catalogue when its lines have a product and a quantity
    but no price (proposer/line_price.py); `dialect` with the file's columns. Reads the file and the products."""
    product = lines_without_price(document["proposals"])
    if product is None:
        return document
    priced = product_keys_priced(
        file_path=file_path, dialect=dialect, column=product["source_col"], transform=product.get("transform")
    )
    price = product_price_proposal(proposals=document["proposals"], priced=priced, profile=profile)
    return {**document, "proposals": [*document["proposals"], price]}


def mapping_grain_proposed(*, source: DataSource) -> dict:
    """What one row of the upload is, as the proposer reads its profile: {"table", "reason"}
    (proposer.propose.file_grain). Offline, without the users' earlier mappings or the LLM: a few
    milliseconds, for the review page of a saved version. Writes nothing."""
    return proposed_grain(
        file=source.name, profile=source.profile, dialect=source.dialect, domain_hint=source.domain or None
    )
