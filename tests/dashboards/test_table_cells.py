"""A table widget's body rows are built by the presenter (`WidgetDisplay.cells_html`), not by a template loop per cell:
the same HTML the loop wrote, every cell escaped."""

from __future__ import annotations

from django.template import Context, Template

from dashboards.presenters import WidgetDisplay

HOSTILE = ["<script>alert(1)</script>", "a \"quoted\" & 'single' name", "1,234.50", "", "—", "Zoë <b>"]


def test_the_body_rows_equal_what_the_template_loop_wrote():
    display = WidgetDisplay(data=None, cells=[HOSTILE[:3], HOSTILE[3:]])
    loop = Template("{% for row in cells %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}")
    assert display.cells_html == loop.render(Context({"cells": display.cells}))
    assert "<script>" not in display.cells_html and "&lt;script&gt;" in display.cells_html


def test_a_table_widget_draws_its_rows(client, sales_dashboard, executive):
    client.force_login(executive)
    widget = sales_dashboard.widgets.filter(chart_type="table").first()
    body = client.get(f"/dashboards/{sales_dashboard.slug}/widgets/{widget.pk}/", HTTP_HX_REQUEST="true").content
    assert b"<tbody><tr><td>" in body
