"""Read settings from the environment and fail loudly, naming the variable, on a bad value."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_database_url(name: str = "DATABASE_URL") -> dict | None:
    import dj_database_url

    raw = os.environ.get(name)
    if not raw:
        return None
    if not raw.startswith(("postgres://", "postgresql://", "pgsql://")):
        raise ImproperlyConfigured(
            f"{name} must be a PostgreSQL URL (postgresql://user:pass@host:port/db), got {raw!r}"
        )
    try:
        config = dj_database_url.parse(raw)
    except Exception as exc:  # dj_database_url raises several types
        raise ImproperlyConfigured(f"{name}={raw!r} cannot be parsed: {exc}") from None
    # A unix-socket URL (postgresql://user@/db?host=/run/pg) leaves host in OPTIONS; HOST is where
    # Django and anything reading settings (child processes, raw connections) expect it.
    options = config.setdefault("OPTIONS", {})
    if not config.get("HOST") and "host" in options:
        config["HOST"] = options.pop("host")
    return config


def env_redis_url(name: str = "REDIS_URL") -> str | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    if not raw.startswith(("redis://", "rediss://", "unix://", "redis+socket://")):
        raise ImproperlyConfigured(f"{name} must be a redis:// or unix:// URL, got {raw!r}")
    return raw
