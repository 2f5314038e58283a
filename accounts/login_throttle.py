"""Login throttling against brute force: failed attempts are counted per username and per client address.

Counts live in the cache (Redis) for `LOGIN_LOCKOUT_SECONDS`. Every door that checks a password goes
through `authenticate()`, so the counting hangs off Django's `user_login_failed` signal and the refusal
off an authentication backend (`ThrottledModelBackend`): the login page, the admin and the API token
endpoint are all covered. When the cache is unreachable the throttle fails open (and logs it): logging in
must keep working while Redis is down, and the password check itself is unaffected.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest

logger = logging.getLogger(__name__)

_PREFIX = "login-fail"


def _limits() -> tuple[int, int, int]:
    return (
        settings.LOGIN_FAILURE_LIMIT,
        settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS,
        settings.LOGIN_LOCKOUT_SECONDS,
    )


def _username_key(username: str) -> str:
    digest = hashlib.sha256(str(username).strip().lower().encode()).hexdigest()[:32]
    return f"{_PREFIX}:user:{digest}"


def _address_key(address: str) -> str:
    return f"{_PREFIX}:addr:{address}"


def client_address(request: HttpRequest | None) -> str | None:
    """The peer address. X-Forwarded-For is not trusted here: any client could set it."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _keys(username: str | None, address: str | None) -> list[tuple[str, int]]:
    per_user, per_address, _ = _limits()
    keys = []
    if username:
        keys.append((_username_key(username), per_user))
    if address:
        keys.append((_address_key(address), per_address))
    return keys


def login_is_locked_out(*, username: str | None, request: HttpRequest | None) -> bool:
    """True when this username or this client address has failed too often recently."""
    keys = _keys(username, client_address(request))
    if not keys:
        return False
    try:
        counts = cache.get_many([key for key, _ in keys])
    except Exception:  # the cache being down must not lock everybody out
        logger.warning("login throttle: cache unavailable, not throttling", exc_info=True)
        return False
    return any(counts.get(key, 0) >= limit for key, limit in keys)


def login_failure_record(*, username: str | None, request: HttpRequest | None) -> None:
    """Count one failed login for the username and the client address."""
    _, _, window = _limits()
    try:
        for key, _limit in _keys(username, client_address(request)):
            cache.add(key, 0, timeout=window)
            cache.incr(key)
    except Exception:
        logger.warning("login throttle: cache unavailable, failure not counted", exc_info=True)


def login_failures_clear(*, username: str) -> None:
    """A successful login clears its username's count (not the address's: that one only expires)."""
    try:
        cache.delete(_username_key(username))
    except Exception:
        logger.warning("login throttle: cache unavailable, count not cleared", exc_info=True)


def login_failures_reset(*, username: str | None = None, address: str | None = None) -> None:
    """Forget the failures of a username and/or a client address (an admin unlocking someone)."""
    keys = [key for key, _ in _keys(username, address)]
    if keys:
        cache.delete_many(keys)


def lockout_minutes() -> int:
    return max(1, _limits()[2] // 60)


@receiver(user_login_failed, dispatch_uid="accounts.login_throttle.failed")
def _on_login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    login_failure_record(username=credentials.get("username"), request=request)


@receiver(user_logged_in, dispatch_uid="accounts.login_throttle.succeeded")
def _on_logged_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    login_failures_clear(username=user.get_username())


class ThrottledModelBackend(ModelBackend):
    """ModelBackend that refuses to check a password for a locked-out username or address.

    Raising PermissionDenied stops `authenticate()` from trying any other backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            from django.contrib.auth import get_user_model

            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if login_is_locked_out(username=username, request=request):
            logger.warning("login refused: too many failures for %r from %s", username, client_address(request))
            raise PermissionDenied("too many failed logins")
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        """The session's user, carrying the access generation read in the same query
        (`accounts.selectors.access_generation`)."""
        from accounts.selectors import user_get_with_access_generation

        user = user_get_with_access_generation(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
