"""Two files of the same grain that disagree are last-wins, never silently (issue 19): the report counts the rows
whose values another upload had set and this execution replaced (`tables.<table>.overwritten_from_other_sources`),
with a warning line, the ingest JSON and the job page show it; re-running a file reports nothing."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from canonical.models import Employee, Order
from mappings.models import ExecutionJob
from mappings.services.execute import execution_run_now
from tests.factories import PASSWORD
from tests.mappings.helpers import field, run, upload_text

pytestmark = pytest.mark.django_db

ORDERS, LINES = "canonical_orders", "canonical_order_lines"
ORDER_FIELDS = [
    field("order", ORDERS, "external_id"),
    field("date", ORDERS, "order_date"),
    field("status", ORDERS, "status"),
    field("customer", ORDERS, "customer_id"),
    field("region", ORDERS, "attributes.region"),
]
FIRST = "order,date,status,customer,region\nA,2024-01-05,shipped,C1,West\nB,2024-02-10,open,C2,East\n"
# The same orders from another system: A's status, customer and region differ; B is the same.
SECOND = "order,date,status,customer,region\nA,2024-01-05,returned,C9,North\nB,2024-02-10,open,C2,East\n"


def _overwritten(job, table=ORDERS) -> dict:
    return job.report["tables"][table].get("overwritten_from_other_sources", {})


def test_a_second_file_of_the_same_grain_that_disagrees_is_counted_with_examples(tmp_path):
    run(upload_text(tmp_path, FIRST, name="first.csv"), ORDER_FIELDS)

    job = run(upload_text(tmp_path, SECOND, name="second.csv"), ORDER_FIELDS)

    assert job.status == "succeeded", job.report
    overwritten = _overwritten(job)
    assert overwritten["rows"] == 1
    assert overwritten["columns"] == {"attributes.region": 1, "customer_id": 1, "status": 1}
    examples = {e["column"]: e for e in overwritten["examples"]}
    assert examples["status"] == {
        "external_id": "A",
        "column": "status",
        "was": "shipped",
        "now": "returned",
        "source": "first.csv",
    }
    assert (examples["customer_id"]["was"], examples["customer_id"]["now"]) == ("C1", "C9")  # by external id
    assert (examples["attributes.region"]["was"], examples["attributes.region"]["now"]) == ("West", "North")
    (line,) = [w for w in job.report["warnings"] if "another upload described" in w]
    assert line.startswith("canonical_orders: 1 rows that another upload described got different values")
    assert Order.objects.get(external_id="A").status == "returned"  # still last-wins: visible, not refused


def test_re_running_a_file_reports_no_overwrite_and_changes_nothing(tmp_path):
    run(upload_text(tmp_path, FIRST, name="first.csv"), ORDER_FIELDS)
    second = upload_text(tmp_path, SECOND, name="second.csv")
    run(second, ORDER_FIELDS)

    again = execution_run_now(source=second, user=None)

    counts = again.report["tables"][ORDERS]
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (0, 0, 2)
    assert "overwritten_from_other_sources" not in counts
    assert not any("another upload described" in w for w in again.report.get("warnings", []))


def test_the_first_file_loaded_again_after_the_second_is_counted_again(tmp_path):
    first = upload_text(tmp_path, FIRST, name="first.csv")
    run(first, ORDER_FIELDS)
    run(upload_text(tmp_path, SECOND, name="second.csv"), ORDER_FIELDS)

    back = execution_run_now(source=first, user=None)

    assert _overwritten(back)["rows"] == 1
    assert {e["source"] for e in _overwritten(back)["examples"]} == {"second.csv"}
    assert Order.objects.get(external_id="A").status == "shipped"


def test_filling_a_value_the_other_file_left_empty_is_no_overwrite(tmp_path):
    run(upload_text(tmp_path, "order,date\nA,2024-01-05\n", name="dates.csv"), ORDER_FIELDS[:2])
    fields = [*ORDER_FIELDS[:2], field("cur", ORDERS, "currency"), field("status", ORDERS, "status")]

    job = run(upload_text(tmp_path, "order,date,cur,status\nA,2024-01-05,EUR,open\n", name="more.csv"), fields)

    assert job.report["tables"][ORDERS]["updated"] == 1
    assert _overwritten(job) == {}


def test_an_orders_file_taking_over_what_a_lines_file_said_of_an_order_is_no_overwrite(tmp_path):
    lines = [
        field("order", ORDERS, "external_id"),
        field("limit", ORDERS, "order_date"),
        field("order", LINES, "order_id"),
        field("qty", LINES, "quantity"),
        field("price", LINES, "unit_price"),
    ]
    run(upload_text(tmp_path, "order,limit,qty,price\nA,2024-03-30,1,5.00\n", name="lines.csv"), lines)

    job = run(upload_text(tmp_path, FIRST, name="orders.csv"), ORDER_FIELDS)

    assert job.report["tables"][ORDERS]["updated"] == 1
    assert _overwritten(job) == {}
    # Two lines files (both below the order) that disagree on an order no orders file described: counted.
    other = run(upload_text(tmp_path, "order,limit,qty,price\nC,2024-04-01,1,5.00\n", name="l1.csv"), lines)
    assert _overwritten(other) == {}
    job = run(upload_text(tmp_path, "order,limit,qty,price\nC,2024-04-09,1,5.00\n", name="l2.csv"), lines)
    assert _overwritten(job)["columns"] == {"order_date": 1}
    assert _overwritten(job)["examples"][0]["was"] == "2024-04-01"


def test_a_file_loaded_through_staging_counts_overwrites_too(tmp_path):
    # A manager column (a self-reference) sends employees through the staged path.
    fields = [
        field("id", "canonical_employees", "external_id"),
        field("name", "canonical_employees", "name"),
        field("title", "canonical_employees", "title"),
        field("manager", "canonical_employees", "manager_id"),
    ]
    run(upload_text(tmp_path, "id,name,title,manager\nE1,Ann,CEO,\nE2,Bob,Rep,E1\n", name="hr.csv"), fields)

    job = run(upload_text(tmp_path, "id,name,title,manager\nE1,Ann,CEO,\nE2,Bob,Manager,E1\n", name="crm.csv"), fields)

    assert _overwritten(job, "canonical_employees")["columns"] == {"title": 1}
    assert Employee.objects.get(external_id="E2").title == "Manager"


def test_the_ingest_json_and_the_job_page_show_the_overwrites(tmp_path, capsys, client, executive):
    run(upload_text(tmp_path, FIRST, name="first.csv"), ORDER_FIELDS)
    path = tmp_path / "second.csv"
    path.write_text(SECOND)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(ORDER_FIELDS))

    call_command("ingest", str(path), "--mapping-file", str(mapping), "--json", "--user", "fuller")

    report = json.loads(capsys.readouterr().out)
    assert report["tables"][ORDERS]["overwritten_from_other_sources"]["rows"] == 1
    client.login(username="fuller", password=PASSWORD)
    job = ExecutionJob.objects.get(source_id=report["source_id"])
    body = client.get(f"/uploads/jobs/{job.pk}/").content.decode()
    assert 'data-testid="overwritten"' in body
    assert "1 row that another upload described got different values" in body
    assert "shipped" in body and "returned" in body and "first.csv" in body
