"""What `make run` serves with (manage.py, wsgi and celery default to it): DEBUG stays off, so no visitor
ever gets Django's technical pages (settings, paths, tracebacks). Developers opt in with DEBUG=true."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", False)
