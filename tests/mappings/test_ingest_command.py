from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from canonical.models import Customer
from mappings.models import Mapping


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture
def customers_csv(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("Customer ID,Company Name,City\nC1,Alfreds Futterkiste,Berlin\nC2,Ana Trujillo,México D.F.\n")
    return path


@pytest.fixture
def mapping_file(tmp_path):
    path = tmp_path / "mapping.json"
    path.write_text(
        json.dumps(
            {
                "mappings": [
                    {
                        "source_col": "Customer ID",
                        "canonical_table": "canonical_customers",
                        "canonical_col": "external_id",
                    },
                    {"source_col": "Company Name", "canonical_table": "canonical_customers", "canonical_col": "name"},
                    {"source_col": "City", "canonical_table": "canonical_customers", "canonical_col": "city"},
                ]
            }
        )
    )
    return path


def ingest(*args) -> dict:
    out = io.StringIO()
    call_command("ingest", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_ingest_with_a_mapping_file_prints_the_contract_json(db, customers_csv, mapping_file):
    report = ingest(str(customers_csv), "--mapping-file", str(mapping_file))

    assert set(report) >= {"source_id", "mapping_id", "tables", "errors"}
    assert report["tables"] == {"canonical_customers": {"inserted": 2, "updated": 0, "unchanged": 0, "rejected": 0}}
    assert report["errors"] == []
    assert Customer.objects.get(external_id="C2").city == "México D.F."


def test_an_ingested_file_is_profiled_like_an_upload_from_the_page(db, customers_csv, mapping_file):
    from mappings.models import DataSource

    report = ingest(str(customers_csv), "--mapping-file", str(mapping_file))

    profile = DataSource.objects.get(pk=report["source_id"]).profile
    assert [c["name"] for c in profile["columns"]] == ["Customer ID", "Company Name", "City"]


def test_ingest_with_a_saved_mapping_id_reuses_its_fields(db, customers_csv, mapping_file):
    first = ingest(str(customers_csv), "--mapping-file", str(mapping_file))
    again = ingest(str(customers_csv), "--mapping", str(first["mapping_id"]))

    assert again["tables"]["canonical_customers"] == {"inserted": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert again["source_id"] != first["source_id"]
    assert Mapping.objects.count() == 2


def test_ingest_auto_takes_the_proposers_confident_mapping(db, customers_csv):
    report = ingest(str(customers_csv), "--auto")

    assert report["tables"]["canonical_customers"]["inserted"] == 2
    assert Customer.objects.filter(external_id="C1", name="Alfreds Futterkiste").exists()


def test_ingest_failures_exit_non_zero_with_a_one_line_reason(db, tmp_path, mapping_file):
    with pytest.raises(CommandError, match="no such file"):
        call_command("ingest", str(tmp_path / "missing.csv"), "--mapping-file", str(mapping_file), "--json")
    with pytest.raises(CommandError, match="no mapping"):
        call_command("ingest", str(mapping_file), "--json")
    bad = tmp_path / "bad.json"
    bad.write_text('[{"source_col": "Nope", "canonical_table": "canonical_customers", "canonical_col": "name"}]')
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("a\n1\n")
    with pytest.raises(CommandError, match="'Nope' is not a header of the file"):
        call_command("ingest", str(csv_path), "--mapping-file", str(bad), "--json")


def test_the_ingest_command_starts_without_importing_the_llm_sdk_or_running_system_checks():
    # What a user waits for on `ingest --auto` starts with the process: the anthropic SDK (1.2-1.7 s of imports on a
    # busy 2-core machine) is imported only when an API key asks it something; the checks are the web app's.
    import subprocess
    import sys
    from pathlib import Path

    from mappings.management.commands.ingest import Command

    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.local'); "
        "django.setup(); import mappings.management.commands.ingest; print('anthropic' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
    assert Command.requires_system_checks == []
