from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
# Tests create and drop their own database; a pool would hold connections to it across that.
for _alias in DATABASES:
    DATABASES[_alias]["OPTIONS"].pop("pool", None)
# Failed-login counts live in Redis and outlive a test run; the throttle's own tests set tight limits.
LOGIN_FAILURE_LIMIT = 10_000
LOGIN_FAILURE_LIMIT_PER_ADDRESS = 100_000
# A second execution of one upload waits this long for the first (tests that need longer say so).
EXECUTION_LOCK_WAIT_SECONDS = 1
