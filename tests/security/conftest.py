from __future__ import annotations

import pytest

from accounts.login_throttle import login_failures_reset


@pytest.fixture
def tight_login_throttle(settings):
    """The production-like limits, with the counts of the test client's address and personas forgotten."""
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 30
    settings.LOGIN_LOCKOUT_SECONDS = 900
    login_failures_reset(address="127.0.0.1")
    for username in ("fuller", "buchanan", "davolio", "outsider", "admin", "nobody"):
        login_failures_reset(username=username)
    yield settings
    login_failures_reset(address="127.0.0.1")
    for username in ("fuller", "buchanan", "davolio", "outsider", "admin", "nobody"):
        login_failures_reset(username=username)
