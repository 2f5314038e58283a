"""`make test-scaleout`: start the scale-out topology on loopback, run tests/scaleout against it, stop it all.

    python -m tests.scaleout.run [pytest arguments]

Starts a PostgreSQL primary and a streaming standby, PgBouncer (transaction mode) in front of the primary, an
S3-compatible server (moto), a Redis, all on free loopback ports in one temporary directory; then pytest, whose
app reads the standby (DATABASE_REPLICA_URL) and stores uploads in the S3 bucket, and whose fixtures start two
Celery workers on different queues behind PgBouncer. Everything started here is stopped on the way out, also
when a test fails or the run is interrupted. Exits with pytest's status.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.scaleout.cluster import PostgresPair, RedisServer

ROOT = Path(__file__).resolve().parents[2]


def _interrupted(signum, frame):  # SIGTERM (CI's timeout) unwinds like Ctrl-C: the finally blocks stop it all
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    from tests.reliability.pgbouncer import PGBOUNCER, PgBouncer
    from tests.s3server import S3Server

    if not os.path.exists(PGBOUNCER):
        print("test-scaleout: PgBouncer is not installed (Debian: apt-get install -y pgbouncer)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupted)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="ll-scaleout-"))
    os.chmod(workdir, 0o755)  # the postgres user runs the servers below it
    keep = os.environ.get("SCALEOUT_KEEP") == "1"
    stops = []
    try:
        pair = PostgresPair(workdir / "pg")
        stops.append(pair.stop)
        pair.create_database("ledgerlight")
        redis = RedisServer(workdir)
        stops.append(redis.stop)
        s3 = S3Server(workdir / "moto.log")
        stops.append(s3.stop)
        bouncer_dir = workdir / "pgbouncer"
        bouncer = PgBouncer(bouncer_dir, server=pair.server())
        stops.append(bouncer.stop)
        print(
            f"test-scaleout: primary :{pair.primary_port}, standby :{pair.standby_port}, pgbouncer :{bouncer.port}, "
            f"s3 :{s3.port}, redis :{redis.port} in {workdir} ({time.monotonic() - started:.1f} s)",
            flush=True,
        )
        env = {
            **os.environ,
            "DATABASE_URL": pair.url(),
            "DATABASE_REPLICA_URL": pair.url(standby=True),
            "REDIS_URL": redis.url,
            "MEDIA_ROOT": str(workdir / "media"),
            "SCALEOUT": "1",
            "SCALEOUT_PGBOUNCER_PORT": str(bouncer.port),
            "SCALEOUT_STANDBY_PORT": str(pair.standby_port),
            **s3.environ(),
        }
        command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "--create-db", "tests/scaleout", *argv]
        return subprocess.call(command, cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        for stop in reversed(stops):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - stop the others all the same
                print(f"test-scaleout: stopping failed: {exc}", file=sys.stderr)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        print(f"test-scaleout: stopped everything ({time.monotonic() - started:.0f} s in all)", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
