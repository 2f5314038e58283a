"""`manage.py ingest FILE [--auto] [--mapping ID] [--mapping-file JSON] --json` (contract section 3)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from mappings.management.commands.propose_mapping import add_date_order_arguments
from mappings.services.ingest import AutoRefused, IngestFailed, ingest_file, ingest_report
from mappings.services.sources import date_order_option
from mappings.services.upload import UploadRejected


class Command(BaseCommand):
    help = "Upload FILE, map it (proposer with --auto, a saved mapping, or a mapping JSON file) and execute it."
    # A data command: the system checks (URLs, views, API schema imported for them) cost 0.2-0.7 s of every run.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--auto", action="store_true", help="accept the proposer's confident proposals")
        source.add_argument("--mapping", type=int, dest="mapping_id", help="reuse the fields of saved mapping ID")
        source.add_argument(
            "--mapping-file",
            help='JSON: a list of field mappings, or {"mappings": [...], "options": {...}} (demo/mappings/*.json)',
        )
        parser.add_argument("--domain", default="", help="domain hint for the proposer, e.g. orders")
        add_date_order_arguments(parser)
        parser.add_argument("--user", help="username recorded as uploader (default: none)")
        parser.add_argument("--all-or-nothing", action="store_true", help="abort the whole run if any row is rejected")
        parser.add_argument("--json", action="store_true", help="print the report as one JSON object")

    def handle(self, *args, **opts):
        fields, options = None, {}
        if opts["mapping_file"]:
            fields, options = _read_mapping_file(Path(opts["mapping_file"]))
        if opts["all_or_nothing"]:
            options["all_or_nothing"] = True
        if not (opts["auto"] or opts["mapping_id"] or fields is not None):
            raise CommandError("no mapping: pass --auto, --mapping ID or --mapping-file FILE")
        user = None
        if opts["user"]:
            user = User.objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"no user {opts['user']!r}")
        try:
            source, job = ingest_file(
                path=opts["file"],
                user=user,
                fields=fields,
                mapping_id=opts["mapping_id"],
                auto=opts["auto"],
                options=options or None,
                domain=opts["domain"],
                date_order=date_order_option(opts),
            )
        except AutoRefused as exc:
            if opts["json"]:
                self.stdout.write(json.dumps(auto_refused_report(exc)))
            raise CommandError(str(exc)) from None
        except (IngestFailed, UploadRejected) as exc:
            raise CommandError(str(exc)) from None
        report = ingest_report(source, job)
        if opts["json"]:
            self.stdout.write(json.dumps(report, default=str))
        else:
            for table, counts in report["tables"].items():
                self.stdout.write(f"{table}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            for error in report["errors"]:
                self.stdout.write(f"  {error}")
            for left in report.get("auto_left_out") or []:
                kept = ", ".join(left["kept"]) or "none"
                self.stdout.write(
                    f"{left['canonical_table']}: left out by --auto ({', '.join(left['missing'])} not confident); "
                    f"kept as attributes: {kept}"
                )
        if job is not None and job.status != job.Status.SUCCEEDED:
            raise CommandError(job.error or "execution failed")


def auto_refused_report(exc: AutoRefused) -> dict:
    """The ingest JSON when --auto stops: nothing loaded, and what needs a person, column by column."""
    return {
        "source_id": exc.source.pk,
        "mapping_id": None,
        "tables": {},
        "errors": [p.line() for p in exc.problems],
        "needs_review": [p.as_json() for p in exc.problems],
    }


def _read_mapping_file(path: Path) -> tuple[list[dict], dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read mapping file {path}: {exc}") from None
    if isinstance(data, list):
        return data, {}
    if isinstance(data, dict) and isinstance(data.get("mappings"), list):
        return data["mappings"], dict(data.get("options") or {})
    raise CommandError(f'mapping file {path}: expected a list of field mappings or {{"mappings": [...]}}')
