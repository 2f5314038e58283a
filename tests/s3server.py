"""An S3-compatible server on a free loopback port (moto's server mode, from PyPI), for upload storage tests.

Started as its own process and stopped at the end; `storage_settings` are the STORAGES entry and environment
variables that point the app (and any worker it starts) at one bucket on it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"  # moto accepts any credentials
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    def __init__(self, log_path: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.bucket = f"uploads-{uuid.uuid4().hex[:12]}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the S3 server did not start:\n" + log_path.read_text(errors="replace"))
            time.sleep(0.1)
        self.client().create_bucket(Bucket=self.bucket)

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def object_names(self) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def requests(self, method: str, key: str) -> int:
        """How many `method` requests for object `key` the server has answered (its request log)."""
        self._log.flush()
        line = f'"{method} /{self.bucket}/{key} HTTP/'
        return self.log_path.read_text(errors="replace").count(line)

    def environ(self) -> dict[str, str]:
        """What a process started by the test needs to store uploads in this server's bucket."""
        return {
            "UPLOAD_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_ENDPOINT_URL": self.url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def storages_setting(self, staticfiles: dict) -> dict:
        """settings.STORAGES with the default storage on this server's bucket (as config.settings builds it)."""
        return {
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": self.bucket,
                    "endpoint_url": self.url,
                    "region_name": REGION,
                    "access_key": ACCESS_KEY,
                    "secret_key": SECRET_KEY,
                    "file_overwrite": True,
                    "default_acl": None,
                },
            },
            "staticfiles": staticfiles,
        }

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
