"""The dashboard page's rep and team pickers: every employee whose rows the caller may see, the filtered one selected,
their options kept per scope under the access generation (an executive's page lists every employee twice)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.selectors import employee_subtree_ids

pytestmark = pytest.mark.django_db


def options(page: str) -> list[tuple[str, bool]]:
    """(label, selected) of the rep picker's employee options, in order."""
    picker = page.split('name="rep"', 1)[1].split("</select>", 1)[0]
    return [
        (label, bool(sel)) for sel, label in re.findall(r'<option value="\d+"( selected)?>([^<]*)</option>', picker)
    ]


def test_a_managers_pickers_list_their_team_and_select_the_filtered_rep(client, sales_dashboard, manager, nw_employees):
    client.force_login(manager)
    url = f"/dashboards/{sales_dashboard.slug}/"
    first = options(client.get(url).content.decode())
    with CaptureQueriesContext(connection) as captured:
        chosen = options(client.get(url, {"rep": nw_employees["6"].pk}).content.decode())

    team = sorted(e.name for e in nw_employees.values() if e.pk in employee_subtree_ids(manager.employee_id))
    assert [label for label, _ in first] == team and not any(selected for _, selected in first)
    assert [label for label, selected in chosen if selected] == [nw_employees["6"].name]
    assert [label for label, _ in chosen] == team  # the same options, kept: no employees query this time
    assert not any('"canonical_employees"' in q["sql"] for q in captured.captured_queries)


def test_an_employee_moved_into_the_team_is_in_the_pickers_at_once(client, sales_dashboard, manager, nw_employees):
    client.force_login(manager)
    url = f"/dashboards/{sales_dashboard.slug}/"
    before = [label for label, _ in options(client.get(url).content.decode())]
    davolio = nw_employees["1"]
    davolio.manager = nw_employees["5"]  # the hierarchy changes: a new access generation
    davolio.save(update_fields=["manager"])

    after = [label for label, _ in options(client.get(url).content.decode())]

    assert davolio.name not in before and davolio.name in after
