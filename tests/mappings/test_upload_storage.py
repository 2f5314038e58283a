"""Uploads through Django's storage API: with an S3-compatible store (a real moto server on loopback) the web
server keeps no copy, and an execution reads the file from the store into a local copy it removes afterwards."""

from __future__ import annotations

from pathlib import Path

from django.core.files.storage import storages

from canonical.models import Customer
from mappings.models import ExecutionJob
from mappings.services.convert import data_source_read_as
from mappings.services.execute import execution_run_now
from mappings.services.mapping import mapping_save
from mappings.services.storage import upload_files_local, upload_storage_is_local
from tests.mappings.helpers import CUSTOMER_FIELDS, CUSTOMERS_CSV, upload_stored


def test_the_filesystem_storage_is_the_default_and_keeps_uploads_where_they_were(executive, tmp_path, settings):
    assert upload_storage_is_local()
    source = upload_stored(tmp_path, executive)
    assert (settings.UPLOAD_DIR / source.file_path.rsplit("/", 1)[-1]).is_file()


def test_an_upload_is_stored_in_s3_and_the_web_server_keeps_no_copy(executive, tmp_path, s3):
    source = upload_stored(tmp_path, executive)
    readable, original = Path(source.file_path), Path(source.dialect["original_file"])
    assert f"uploads/{readable.name}" in s3.object_names()
    assert f"uploads/{original.name}" in s3.object_names()
    assert not readable.exists() and not original.exists()
    assert source.profile["columns"]  # profiled from its local copy during the upload
    stored = storages["default"].open(f"uploads/{readable.name}").read().decode()
    assert stored.splitlines()[1] == "ALFKI,Alfreds Futterkiste,Germany"


def test_an_upload_only_in_s3_executes_and_loads_every_row_from_a_local_copy_removed_after(executive, tmp_path, s3):
    source = upload_stored(tmp_path, executive)
    assert not Path(source.file_path).exists()
    mapping = mapping_save(source=source, fields=CUSTOMER_FIELDS, user=executive)
    job = execution_run_now(source=source, mapping=mapping, user=executive)
    assert job.status == ExecutionJob.Status.SUCCEEDED, job.error
    assert job.report["tables"]["canonical_customers"]["inserted"] == 2
    assert sorted(Customer.objects.values_list("external_id", "country")) == [
        ("ALFKI", "Germany"),
        ("BERGS", "Sweden"),
    ]
    assert not Path(source.file_path).exists()  # the local copy went with the execution


def test_a_file_read_again_another_way_replaces_its_stored_copy(executive, tmp_path, s3):
    text = "Customers export\n\ncustomer_id,company,country\nALFKI,Alfreds,Germany\n"
    source = upload_stored(tmp_path, executive, text=text, name="titled.csv")
    source = data_source_read_as(source=source, header_row=0, convert_later=False)
    name = "uploads/" + source.file_path.rsplit("/", 1)[-1]
    assert storages["default"].open(name).read().decode().splitlines()[0] == "Customers export"
    assert s3.object_names().count(name) == 1


def test_a_local_copy_is_fetched_whole_and_removed_when_the_block_ends(executive, tmp_path, s3):
    source = upload_stored(tmp_path, executive)
    with upload_files_local(source):
        assert Path(source.file_path).read_text(encoding="utf-8") == CUSTOMERS_CSV
        assert not list(Path(source.file_path).parent.glob("*.part"))
    assert not Path(source.file_path).exists()
