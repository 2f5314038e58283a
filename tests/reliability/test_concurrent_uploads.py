"""A double click: the same file posted twice at the same moment by one user, as two real requests.

Each request runs in its own thread with its own PostgreSQL session (committed for real: a transactional
test). Exactly one upload must survive, and both answers must point at it.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

import mappings.services.upload as upload_service
from mappings.models import DataSource

pytestmark = pytest.mark.django_db(transaction=True)

CSV = b"order,date,amount\nA1,2024-01-05,10.50\nA2,2024-01-06,20.00\nA3,2024-01-07,30.25\n"


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


@pytest.fixture
def both_at_the_duplicate_check(monkeypatch):
    """The two requests meet at the duplicate check, unless something keeps one of them out of it (the
    lock): then the other goes on once the wait runs out."""
    barrier = threading.Barrier(2)
    real = upload_service.data_source_find_duplicate

    def meeting(**kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=3)
        return real(**kwargs)

    monkeypatch.setattr(upload_service, "data_source_find_duplicate", meeting)
    # The old upload path looked the duplicate up from sources.py: meet there too.
    import mappings.services.sources as sources_service

    if hasattr(sources_service, "data_source_find_duplicate"):
        monkeypatch.setattr(sources_service, "data_source_find_duplicate", meeting)


def _post_upload(user, answers: list, index: int) -> None:
    try:
        client = Client()
        client.force_login(user)
        response = client.post("/uploads/", {"file": SimpleUploadedFile("orders.csv", CSV, "text/csv")})
        answers[index] = response
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        answers[index] = exc
    finally:
        connection.close()


def test_a_double_click_on_upload_keeps_exactly_one_upload(executive, upload_dir, both_at_the_duplicate_check):
    answers: list = [None, None]
    threads = [threading.Thread(target=_post_upload, args=(executive, answers, i)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(isinstance(a, BaseException) for a in answers), answers

    sources = list(DataSource.objects.filter(uploaded_by=executive))
    assert len(sources) == 1, "a double click must keep one upload, not none and not two"
    kept = sources[0]
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 302]  # one "uploaded" (redirect to it), one "already uploaded as #N"
    redirected = next(a for a in answers if a.status_code == 302)
    assert redirected["Location"] == f"/uploads/{kept.pk}/"
    told = next(a for a in answers if a.status_code == 200).content.decode()
    assert f"already uploaded as #{kept.pk}" in told
    # The survivor's files are there; the loser left none behind.
    assert Path(kept.file_path).is_file() and Path(kept.dialect["original_file"]).is_file()
    stored = {p.resolve() for p in Path(upload_dir).iterdir()}
    assert stored == {Path(kept.file_path).resolve(), Path(kept.dialect["original_file"]).resolve()}
    kept.refresh_from_db()
    assert kept.status == DataSource.Status.PROFILED


def test_the_same_file_uploaded_later_is_still_reported_as_a_duplicate(executive, upload_dir):
    client = Client()
    client.force_login(executive)
    first = client.post("/uploads/", {"file": SimpleUploadedFile("orders.csv", CSV, "text/csv")})
    second = client.post("/uploads/", {"file": SimpleUploadedFile("orders again.csv", CSV, "text/csv")})
    kept = DataSource.objects.get(uploaded_by=executive)
    assert first.status_code == 302
    assert second.status_code == 200 and f"already uploaded as #{kept.pk}" in second.content.decode()
    assert len(list(Path(upload_dir).iterdir())) == 2
