from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from mappings.services.upload import data_source_create
from tests.factories import Role, persona

NORTHWIND = Path(settings.DEMO_DATA_DIR)


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.UPLOAD_CACHE_DIR = tmp_path / "upload-cache"


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """A real S3-compatible server (moto's server mode) on loopback, one per test module."""
    from tests.s3server import S3Server

    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def s3(settings, s3_server, tmp_path):
    """Uploads stored in `s3_server` (the default storage), this machine's upload cache empty in tmp_path."""
    from mappings.services.storage import upload_storage_is_local

    settings.STORAGES = s3_server.storages_setting(settings.STORAGES["staticfiles"])
    settings.UPLOAD_CACHE_DIR = tmp_path / "web-cache"
    assert not upload_storage_is_local()
    return s3_server


@pytest.fixture
def analyst(db):
    return persona("analyst", Role.ANALYST)


@pytest.fixture
def upload_of():
    """Store a file as `user`'s upload, profiled (what the upload page does)."""
    from mappings.services.sources import data_source_upload

    def _upload(path, user, name=None):
        with open(path, "rb") as fh:
            return data_source_upload(file=fh, name=name or Path(path).name, user=user).source

    return _upload


__all__ = ["NORTHWIND", "data_source_create"]
