"""What a web process builds once, done before it serves (config/wsgi.py): the first request of a fresh worker paid
~45 ms of CPU for it (the URL resolver's reverse tables, the template engine and its tag libraries, the dashboard
templates compiled, the default locale's number symbols), and threads that started together each built it again."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import get_template
from django.urls import reverse

# The pages dashboard viewers open again and again (each extends base.html).
TEMPLATES = ("dashboards/detail.html", "dashboards/widget.html", "dashboards/list.html")


def warm_up() -> None:
    from dashboards.viewer_format import ViewerFormat, viewer_locale

    reverse("home")  # populates the resolver's reverse tables
    for name in TEMPLATES:
        get_template(name)  # compiled and kept by the cached loader (DEBUG off)
    default = ViewerFormat(locale=viewer_locale(settings.LANGUAGE_CODE))
    for kind in ("integer", "number"):
        default.number(1234.5, kind)
