"""`{% url %}` is reversed once per process per URL (config/template_urls.py), with Django's output."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix

from config import template_urls


@pytest.fixture(autouse=True)
def _forget():
    template_urls.url_reversed_forget()
    yield
    template_urls.url_reversed_forget()
    set_script_prefix("/")


def test_the_tag_writes_what_django_writes(monkeypatch):
    calls = []
    real = template_urls.reverse
    monkeypatch.setattr(template_urls, "reverse", lambda *a, **kw: calls.append(a) or real(*a, **kw))
    text = Template(
        "{% url 'home' %}|{% url 'dashboards:widget' slug pk %}|{% url 'dashboards:widget' slug 8 as w %}{{ w }}"
        "|{% url 'no-such-view' as missing %}{{ missing }}."
    )
    for _ in range(3):
        assert text.render(Context({"slug": "sales", "pk": 7})) == (
            f"{reverse('home')}|{reverse('dashboards:widget', args=('sales', 7))}|"
            f"{reverse('dashboards:widget', args=('sales', 8))}|."
        )
    assert len(calls) == 3 + 3  # each URL once in 3 renders; the name that does not reverse in each (never kept)
    assert Template("{% url 'dashboards:widget' slug pk %}").render(Context({"slug": "other", "pk": 7})) == reverse(
        "dashboards:widget", args=("other", 7)
    )  # other arguments: another URL


def test_a_name_that_does_not_reverse_still_raises():
    with pytest.raises(NoReverseMatch):
        Template("{% url 'no-such-view' %}").render(Context())


def test_the_script_prefix_is_part_of_the_key():
    text = Template("{% url 'home' %}")
    assert text.render(Context()) == "/"
    set_script_prefix("/ledger/")
    assert text.render(Context()) == "/ledger/"
