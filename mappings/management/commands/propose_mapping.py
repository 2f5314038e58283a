"""`propose_mapping FILE [--domain HINT] --json`: profile a file and propose its mapping; writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from mappings.intake.dialect import sniff_file
from mappings.intake.duck import file_columns_and_rows
from mappings.profiling.profile import ProfileError, profile_file
from mappings.proposer.propose import propose_from_profile
from mappings.proposer.scoring import CONFIDENT
from mappings.selectors import learned_mappings


class Command(BaseCommand):
    help = "Profile FILE and propose how its columns map onto the canonical schema (nothing is stored)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--domain", default=None, help="domain hint, e.g. orders, invoices, customers")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, file: str, domain: str | None, json: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        is_xlsx = path.suffix.lower() == ".xlsx"
        try:
            dialect = (
                {"encoding": "utf-8", "delimiter": ",", "quote": '"', "header": True}
                if is_xlsx
                else sniff_file(path).as_json()
            )
            profile = profile_file(path=path, dialect=dialect, file_format="xlsx" if is_xlsx else "csv")
        except (ProfileError, OSError, UnicodeError) as exc:
            raise CommandError(f"cannot profile {file}: {exc}") from exc
        if profile["rows"] is None:
            profile["rows"] = _count_rows(path, dialect)
        try:
            learned = learned_mappings(headers=[c["name"] for c in profile["columns"]])
        except DatabaseError:
            learned = {}  # no database at hand: propose from the file alone
        document = propose_from_profile(
            file=str(file), profile=profile, dialect=dialect, domain_hint=domain, learned=learned
        )
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


def _json_dumps(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False)


def _count_rows(path: Path, dialect: dict) -> int | None:
    """Rows of a big file (the profile saw only its head): DuckDB counts UTF-8 files, lines otherwise."""
    if dialect.get("encoding") in ("utf-8", "utf-8-sig"):
        try:
            return file_columns_and_rows(path, dialect)[1]
        except Exception:  # noqa: BLE001 - a count is a nicety; the proposals stand without it
            return None
    return None
