"""Template context every page gets: how the viewer writes numbers and dates (for the charts' script)."""

from __future__ import annotations

from functools import lru_cache

from django.utils.html import json_script

from dashboards.viewer_format import ViewerFormat, viewer_format_for


@lru_cache(maxsize=512)
def viewer_locale_script(fmt: ViewerFormat) -> str:
    """The <script type="application/json" id="ll-viewer"> of a viewer's format (`ViewerFormat.vega_locale`), written
    once per process per locale and currency: ~100 CLDR look-ups and a JSON dump per page otherwise."""
    return json_script(fmt.vega_locale(), "ll-viewer")


def viewer(request) -> dict:
    # A callable: the template calls it only where it is used (pages of signed-in users).
    return {"viewer_locale_script": lambda: viewer_locale_script(viewer_format_for(request))}
