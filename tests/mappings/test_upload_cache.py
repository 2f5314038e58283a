"""Cached local copies of uploads stored in S3 (a real moto server on loopback, counting the GETs it answers): a
machine fetches a stored upload once per version, reuses the copy while it is intact, and keeps the cache
directory under its size bound without removing a copy a block is reading."""

from __future__ import annotations

import threading
from pathlib import Path

from django.core.files.storage import storages

from mappings.intake.upload_cache import cached_copy
from mappings.models import ExecutionJob
from mappings.services.execute import execution_run_now, mapping_overwrites_preview, transform_preview
from mappings.services.mapping import mapping_save
from mappings.services.storage import upload_files_delete, upload_readable_local
from tests.mappings.helpers import CUSTOMER_FIELDS, CUSTOMERS_CSV, ORDER_FIELDS, upload_stored


def another_machine(settings, tmp_path, name: str = "worker") -> Path:
    """From here on this process reads uploads as a machine whose cache is empty."""
    settings.UPLOAD_CACHE_DIR = tmp_path / f"{name}-cache"
    return settings.UPLOAD_CACHE_DIR


def key(source) -> str:
    return "uploads/" + Path(source.file_path).name


def entries(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.csv"))


def test_two_previews_on_a_machine_without_the_file_download_it_once(executive, tmp_path, settings, s3):
    source = upload_stored(tmp_path, executive)
    another_machine(settings, tmp_path)
    before = s3.requests("GET", key(source))
    first = transform_preview(source=source, fields=CUSTOMER_FIELDS, limit=5)
    second = transform_preview(source=source, fields=CUSTOMER_FIELDS, limit=5)
    assert s3.requests("GET", key(source)) - before == 1
    assert first == second
    assert [row["values"]["external_id"] for row in first] == ["ALFKI", "BERGS"]
    assert source.file_path.endswith(Path(key(source)).name)  # the upload's own path again after each read
    assert not Path(source.file_path).exists()


def test_the_machine_that_stored_an_upload_previews_it_without_downloading_it(executive, tmp_path, s3):
    source = upload_stored(tmp_path, executive)
    assert not Path(source.file_path).exists()  # the web server keeps no upload at its path
    transform_preview(source=source, fields=CUSTOMER_FIELDS, limit=5)
    transform_preview(source=source, fields=CUSTOMER_FIELDS, limit=5)
    assert s3.requests("GET", key(source)) == 0


def test_a_worker_runs_an_upload_twice_from_one_download(executive, tmp_path, settings, s3):
    source = upload_stored(tmp_path, executive)
    mapping = mapping_save(source=source, fields=CUSTOMER_FIELDS, user=executive)
    another_machine(settings, tmp_path)
    for _ in range(2):
        job = execution_run_now(source=source, mapping=mapping, user=executive)
        assert job.status == ExecutionJob.Status.SUCCEEDED, job.error
    assert job.report["tables"]["canonical_customers"]["unchanged"] == 2
    assert s3.requests("GET", key(source)) == 1


def test_orders_whose_date_format_is_read_from_the_file_execute_and_are_checked_on_another_machine(
    executive, tmp_path, settings, s3
):
    # Planning reads the file too (the one format of an "auto" date column), not only the load.
    text = "order,date,amount,customer,rep\nO-1,15/01/2031,12.50,C1,E1\nO-2,28/02/2031,7.25,C1,E1\n"
    source = upload_stored(tmp_path, executive, text=text, name="orders.csv")
    mapping = mapping_save(source=source, fields=ORDER_FIELDS, user=executive)
    another_machine(settings, tmp_path)
    assert mapping_overwrites_preview(source=source, mapping=mapping) == []
    job = execution_run_now(source=source, mapping=mapping, user=executive)
    assert job.status == ExecutionJob.Status.SUCCEEDED, job.error
    assert job.report["date_formats"]["canonical_orders.order_date"]["format"] == "%d/%m/%Y"
    assert s3.requests("GET", key(source)) == 1


def test_an_object_written_again_in_the_store_is_fetched_again_not_read_from_the_old_copy(
    executive, tmp_path, settings, s3
):
    source = upload_stored(tmp_path, executive)
    another_machine(settings, tmp_path)
    assert [r["values"]["country"] for r in transform_preview(source=source, fields=CUSTOMER_FIELDS)] == [
        "Germany",
        "Sweden",
    ]
    # Another machine stores a new version (same size: only the version tells them apart).
    s3.client().put_object(Bucket=s3.bucket, Key=key(source), Body=CUSTOMERS_CSV.replace("Sweden", "Norway").encode())
    assert [r["values"]["country"] for r in transform_preview(source=source, fields=CUSTOMER_FIELDS)] == [
        "Germany",
        "Norway",
    ]
    assert s3.requests("GET", key(source)) == 2


def test_a_cached_copy_changed_on_disk_is_not_reused(executive, tmp_path, settings, s3):
    source = upload_stored(tmp_path, executive)
    cache = another_machine(settings, tmp_path)
    transform_preview(source=source, fields=CUSTOMER_FIELDS)
    [copy] = entries(cache)
    copy.write_text(CUSTOMERS_CSV.replace("Germany", "Tampered"), encoding="utf-8")
    rows = transform_preview(source=source, fields=CUSTOMER_FIELDS)
    assert [r["values"]["country"] for r in rows] == ["Germany", "Sweden"]
    assert s3.requests("GET", key(source)) == 2


def test_the_cache_keeps_under_its_bound_dropping_the_least_recently_read(executive, tmp_path, settings, s3):
    big = "customer_id,company,country\n" + "".join(f"C{i:05d},Company {i},Germany\n" for i in range(18_000))
    sources = [
        upload_stored(tmp_path, executive, text=big.replace("Company", f"Firm{n}"), name=f"{n}.csv") for n in "abc"
    ]
    size = len(big.replace("Company", "Firma").encode())
    cache = another_machine(settings, tmp_path)
    settings.UPLOAD_CACHE_MAX_MB = 1  # room for two of the three files (about 0.5 MB each)
    assert 2 * size <= 1024 * 1024 < 3 * size
    a, b, c = sources
    for source in (a, b, a, c):  # a is read again before c arrives: b is the least recently read
        transform_preview(source=source, fields=CUSTOMER_FIELDS, limit=1)
    assert sum(p.stat().st_size for p in entries(cache)) <= 1024 * 1024
    assert [s3.requests("GET", key(s)) for s in (a, b, c)] == [1, 1, 1]
    for source in (a, c, b):
        transform_preview(source=source, fields=CUSTOMER_FIELDS, limit=1)
    assert [s3.requests("GET", key(s)) for s in (a, b, c)] == [1, 2, 1]


def test_a_copy_being_read_is_not_trimmed_and_goes_after(executive, tmp_path, settings, s3):
    first, second = (
        upload_stored(tmp_path, executive, name="first.csv"),
        upload_stored(tmp_path, executive, name="second.csv"),
    )
    cache = another_machine(settings, tmp_path)
    settings.UPLOAD_CACHE_MAX_MB = 0  # keep nothing no block holds
    with upload_readable_local(first):
        held = Path(first.file_path)
        transform_preview(source=second, fields=CUSTOMER_FIELDS, limit=1)  # trims after its block
        assert held.read_text(encoding="utf-8") == CUSTOMERS_CSV
        assert entries(cache) == [held]
    assert entries(cache) == []


def test_processes_reading_one_missing_file_at_once_download_it_once(executive, tmp_path, settings, s3):
    source = upload_stored(tmp_path, executive)
    cache = another_machine(settings, tmp_path)
    texts, errors = [], []

    def read() -> None:
        try:
            with cached_copy(storages["default"], key(source), directory=cache, max_bytes=10**8) as copy:
                texts.append(copy.read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]  # separate lock descriptions: like processes
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and texts == [CUSTOMERS_CSV] * 4
    assert s3.requests("GET", key(source)) == 1


def test_a_deleted_upload_leaves_no_cached_copy(executive, tmp_path, settings, s3):
    source = upload_stored(tmp_path, executive)
    cache = another_machine(settings, tmp_path)
    transform_preview(source=source, fields=CUSTOMER_FIELDS, limit=1)
    assert len(entries(cache)) == 1
    upload_files_delete([source.file_path, source.dialect["original_file"]])
    assert [p.name for p in cache.iterdir() if not p.name.startswith(".")] == []
    assert key(source) not in s3.object_names()
