"""`propose_mapping FILE [--domain HINT] --json`: profile a file and propose its mapping; writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from mappings.intake.upload import readable_dialect
from mappings.profiling.dates import DATE_ORDERS
from mappings.profiling.profile import ProfileError, profile_file
from mappings.proposer.propose import propose_from_profile
from mappings.proposer.scoring import CONFIDENT
from mappings.selectors import known_keys, learned_mappings
from mappings.services.propose import with_line_price
from mappings.services.sources import date_order_option
from mappings.services.upload import UploadRejected, file_intake_check


class Command(BaseCommand):
    help = "Profile FILE and propose how its columns map onto the canonical schema (nothing is stored)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--domain", default=None, help="domain hint, e.g. orders, invoices, customers")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        add_date_order_arguments(parser)

    def handle(self, *args, file: str, domain: str | None, json: bool, **options):
        date_order = date_order_option(options)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        # The upload's checks and converters: what `ingest` refuses is refused here too.
        try:
            with file_intake_check(path) as (readable, file_format, dialect):
                if date_order:
                    dialect = {**dialect, "date_order": date_order}
                profile = profile_file(path=readable, dialect=readable_dialect(dialect), total_rows=dialect["rows"])
                document = _proposal(file, profile, dialect, domain, readable)
        except UploadRejected as exc:
            raise CommandError(f"cannot read {path.name}: {exc}") from None
        except (ProfileError, OSError, UnicodeError) as exc:
            raise CommandError(f"cannot profile {file}: {exc}") from None
        if json:
            self.stdout.write(_json_dumps(document))
            return
        self.stdout.write(f"{document['file']}: {document['rows']} rows, dialect {document['dialect']}")
        for p in document["proposals"]:
            target = f"{p['canonical_table']}.{p['canonical_col']}" if p["canonical_table"] else "(unmapped)"
            mark = "*" if p["canonical_table"] and p["confidence"] >= CONFIDENT else " "
            self.stdout.write(
                f"{mark} {p['source_col'] or '(computed)'!s:30} → {target:45} {p['confidence']:.2f}  {p['reason']}"
            )


def _proposal(file: str, profile: dict, dialect: dict, domain: str | None, readable) -> dict:
    """As mapping_propose proposes for an upload (without the LLM), against the database when there is one."""
    shown = {k: v for k, v in dialect.items() if k not in ("columns", "rows", "ragged")}
    try:
        learned = learned_mappings(headers=[c["name"] for c in profile["columns"]])
        keys = known_keys(profile=profile)
    except DatabaseError:
        learned, keys = None, {}  # no database at hand: propose from the file alone
    document = propose_from_profile(
        file=str(file), profile=profile, dialect=shown, domain_hint=domain, learned=learned or {}, known_keys=keys
    )
    if learned is None:
        return document
    # Lines without a price: priced from the catalogue when it prices their products, as `ingest --auto` does.
    return with_line_price(document, profile=profile, file_path=str(readable), dialect=dialect)


def _json_dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False)


def add_date_order_arguments(parser) -> None:
    """--date-order / --locale: how to read dates whose day and month no value of the file decides."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--date-order",
        choices=sorted(DATE_ORDERS),
        help="read dates no value decides as day-first (dmy) or month-first (mdy)",
    )
    group.add_argument("--locale", help="the same from a locale: de, fr, en-GB (day-first), en-US (month-first)")
