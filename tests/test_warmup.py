"""A web worker builds what every request needs before it serves (config/warmup.py, called by config/wsgi.py)."""

from __future__ import annotations

from django.template import engines
from django.template.loaders.cached import Loader as CachedLoader
from django.urls import clear_url_caches, get_resolver

from config.warmup import TEMPLATES, warm_up


def test_warming_up_compiles_the_dashboard_templates_and_the_url_tables():
    (loader,) = engines["django"].engine.template_loaders[0].loaders  # template_partials' loader around Django's
    assert isinstance(loader, CachedLoader)  # DEBUG off, as web workers run
    loader.reset()
    clear_url_caches()
    warm_up()
    assert set(TEMPLATES) <= set(loader.get_template_cache)
    assert get_resolver()._populated
