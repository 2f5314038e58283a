"""Template context every page gets: how the viewer writes numbers and dates (for the charts' script)."""

from __future__ import annotations

from dashboards.viewer_format import viewer_format_for


def viewer(request) -> dict:
    # A callable: the template calls it only where it is used (pages of signed-in users).
    return {"viewer_locale": lambda: viewer_format_for(request).vega_locale()}
