"""The `{% url %}` tag with each URL reversed once per process (a template builtin: TEMPLATES OPTIONS "builtins").

A dashboard page wrote ~11 `{% url %}` tags, each a `reverse()` (~15–30 µs of CPU: the resolver's tables looked up,
the arguments quoted and checked against the pattern) on every request. A reversed URL depends only on the URLconf,
the script prefix, the view name, the arguments and the current app, so it is kept under exactly those: the same tag
with another dashboard's slug or widget's id is another entry. Arguments other than text and integers (whose text is
what the URL carries) are reversed every time, as are names that do not reverse (NoReverseMatch is never kept).
The store is bounded (emptied when full) and emptied when ROOT_URLCONF changes (tests that override it).
"""

from __future__ import annotations

import threading

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template import defaulttags
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()

KEPT_MAX = 4096  # distinct URLs kept per process (a page's slug × widget ids): emptied when full

_kept: dict[tuple, str] = {}
_lock = threading.Lock()


def url_reversed(view_name: str, args: list, kwargs: dict, current_app: str | None) -> str:
    """`reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)`, kept per process."""
    values = (*args, *kwargs.values())
    if not isinstance(view_name, str) or not all(type(v) in (str, int) for v in values):
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    key = (
        get_urlconf() or settings.ROOT_URLCONF,
        get_script_prefix(),
        view_name,
        tuple(args),
        tuple(sorted(kwargs.items())),
        current_app,
    )
    found = _kept.get(key)
    if found is None:
        found = reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        with _lock:
            if len(_kept) >= KEPT_MAX:
                _kept.clear()
            _kept[key] = found
    return found


def url_reversed_forget(**kwargs) -> None:
    if kwargs.get("setting") in (None, "ROOT_URLCONF"):
        with _lock:
            _kept.clear()


setting_changed.connect(url_reversed_forget, dispatch_uid="config.template_urls.forget")


class KeptURLNode(defaulttags.URLNode):
    """Django's URLNode, its URL from `url_reversed`."""

    def render(self, context):
        from django.urls import NoReverseMatch

        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = url_reversed(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """Django's `{% url %}` (same syntax, same output), reversed once per process per URL."""
    node = defaulttags.url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)
