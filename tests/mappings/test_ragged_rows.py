"""Rows with more fields than the header (an unquoted delimiter inside a value): never loaded shifted."""

from __future__ import annotations

from canonical.models import Customer
from mappings.models import RejectedRow
from tests.mappings.helpers import field, run, upload_text

CUSTOMERS = (
    "id,name,street,city,country\n"
    "C1,Alfreds,Obere Str. 57,Berlin,Germany\n"
    "C2,Hanari Carnes,Rua do Paço, 67,Rio de Janeiro,Brazil\n"
    "C3,Blondel,24, place Kléber,Strasbourg,France\n"
    "C4,Pavlova, Ltd.,74 Rose St, Moonie Ponds,Melbourne,Australia\n"
    "C5,Odd,a,b,c,d\n"
)
FIELDS = [
    field("id", "canonical_customers", "external_id"),
    field("name", "canonical_customers", "name"),
    field("city", "canonical_customers", "city"),
    field("country", "canonical_customers", "country"),
]


def test_the_upload_finds_every_row_with_more_fields_than_the_header(db, tmp_path):
    source = upload_text(tmp_path, CUSTOMERS)

    assert source.dialect["columns"] == ["id", "name", "street", "city", "country"]
    ragged = source.dialect["ragged"]
    assert ragged == {"rows": 4, "examples": [3, 4, 5, 6], "header_fields": 5, "max_fields": 7, "repairable": 3}
    assert source.rows == 5


def test_by_default_an_execution_rejects_them_with_the_reason(db, tmp_path):
    job = run(upload_text(tmp_path, CUSTOMERS), FIELDS)

    assert job.status == "succeeded"
    assert list(Customer.objects.values_list("external_id", "city")) == [("C1", "Berlin")]
    rejected = {r.source_row: r for r in RejectedRow.objects.filter(job=job)}
    assert sorted(rejected) == [3, 4, 5, 6]  # one problem per row: not also its shifted values
    assert rejected[3].reason == "the row has 6 fields, the header 5: a value holds the delimiter without quotes"
    assert rejected[3].value == "C2,Hanari Carnes,Rua do Paço, 67,Rio de Janeiro,Brazil"
    assert rejected[5].reason.startswith("the row has 7 fields")


def test_best_effort_joins_a_field_that_begins_with_a_space_back_onto_the_one_before(db, tmp_path):
    job = run(upload_text(tmp_path, CUSTOMERS), FIELDS, options={"ragged_rows": "repair"})

    loaded = {c.external_id: (c.name, c.city, c.country) for c in Customer.objects.all()}
    assert loaded == {
        "C1": ("Alfreds", "Berlin", "Germany"),
        "C2": ("Hanari Carnes", "Rio de Janeiro", "Brazil"),
        "C3": ("Blondel", "Strasbourg", "France"),
        "C4": ("Pavlova, Ltd.", "Melbourne", "Australia"),  # two commas in two fields, both repaired
    }
    (odd,) = RejectedRow.objects.filter(job=job)  # no space tells where its extra comma belongs
    assert (odd.source_row, odd.value) == (6, "C5,Odd,a,b,c,d")


def test_a_file_without_ragged_rows_reads_as_before(db, tmp_path):
    text = 'id,name,city,country\nC1,Alfreds,Berlin,Germany\nC2,"Hanari, Carnes",Rio,Brazil\n'

    job = run(upload_text(tmp_path, text), FIELDS[:2] + FIELDS[2:])

    assert job.report["tables"]["canonical_customers"]["inserted"] == 2
    assert Customer.objects.get(external_id="C2").name == "Hanari, Carnes"


def test_an_unknown_ragged_rows_choice_is_refused(db, tmp_path):
    from mappings.services.mapping import mapping_validate

    source = upload_text(tmp_path, CUSTOMERS)

    errors = mapping_validate(source=source, fields=FIELDS, options={"ragged_rows": "shift"})

    assert errors == ["options.ragged_rows must be one of reject, repair"]


def test_the_upload_counts_how_many_a_best_effort_load_would_repair(db, tmp_path):
    assert upload_text(tmp_path, CUSTOMERS).dialect["ragged"]["repairable"] == 3  # all but C5


def test_a_big_upload_is_counted_after_the_upload_and_its_execution_still_rejects_ragged_rows(db, tmp_path, settings):
    from mappings.services.profile import data_source_profile
    from mappings.tasks import data_source_scan_task

    settings.UPLOAD_SCAN_SYNC_BYTES = 100  # every upload of this test is "big"
    source = upload_text(tmp_path, CUSTOMERS)
    assert source.rows is None and "ragged" not in source.dialect  # not read whole during the upload
    assert source.dialect["columns"] == ["id", "name", "street", "city", "country"]

    job = run(source, FIELDS)  # the execution scans first, so the ragged rows are rejected, not shifted

    source.refresh_from_db()
    assert (source.rows, source.dialect["ragged"]["rows"]) == (5, 4)
    assert job.report["tables"]["canonical_customers"]["rejected"] == 4
    assert list(Customer.objects.values_list("external_id", "city")) == [("C1", "Berlin")]

    later = upload_text(tmp_path, CUSTOMERS.replace("C1,", "C9,"), name="later.csv")
    data_source_profile(source=later)
    data_source_scan_task(later.pk)  # what the worker runs after the upload commits
    later.refresh_from_db()
    assert later.rows == 5 and later.profile["ragged"]["examples"] == [3, 4, 5, 6]


def test_an_ingest_of_a_big_file_queues_no_scan_it_scans_the_file_while_profiling_it(
    db, tmp_path, settings, django_capture_on_commit_callbacks
):
    from mappings.services.ingest import ingest_file
    from mappings.services.upload import data_source_create

    settings.UPLOAD_SCAN_SYNC_BYTES = 100
    settings.UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS)
    with django_capture_on_commit_callbacks() as queued_by_upload:
        data_source_create(file=path, user=None)
    # An upload from the page: its scan goes to a worker (the callback queuing it is the upload's).
    assert [c.__qualname__.split(".")[0] for c in queued_by_upload] == ["data_source_create"]

    with django_capture_on_commit_callbacks() as queued_by_ingest:
        source, job = ingest_file(path=path, user=None, fields=FIELDS)

    assert "data_source_create" not in [getattr(c, "__qualname__", "").split(".")[0] for c in queued_by_ingest]
    source.refresh_from_db()
    assert (source.rows, source.dialect["ragged"]["rows"]) == (5, 4)
    # The profile, taken from a sample while the scan ran, ends with the scan's exact figures.
    assert (source.profile["rows"], source.profile["ragged"]["examples"]) == (5, [3, 4, 5, 6])
    assert job.report["tables"]["canonical_customers"]["rejected"] == 4
