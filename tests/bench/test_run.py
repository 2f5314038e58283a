"""The harness: how rows reach the table, what it says when a benchmark is missing or fails."""

from __future__ import annotations

import sys
import types

import pytest

from bench import run
from bench.run import Ours, call_flexibly, derived_verdict, fmt_number, render_table, run_ours, topic_of

COPY = {"copy": {"topic": "ingest", "key": "copy", "what": "psql \\copy", "value": 400_000.0, "unit": "rows/s"}}


@pytest.fixture
def fake_module(monkeypatch):
    """Install a throwaway module under a given name, as if an engineer had landed bench/<name>.py."""

    def install(name: str, **functions) -> None:
        module = types.ModuleType(name)
        for attr, fn in functions.items():
            setattr(module, attr, fn)
        monkeypatch.setitem(sys.modules, name, module)

    return install


def test_numbers_are_formatted_for_reading():
    assert fmt_number(459_123.4, "rows/s") == "459,123 rows/s"
    assert fmt_number(3.14159, "ms") == "3.14 ms"
    assert fmt_number(0.934, "%") == "93.4%"
    assert fmt_number(93.4, "%") == "93.4%"
    assert fmt_number(0.0123) == "0.0123"
    assert fmt_number(1, "columns") == "1 columns"
    assert fmt_number(12_345) == "12,345"
    assert fmt_number(93, "%") == "93%"
    assert fmt_number("p50 3 / p95 4") == "p50 3 / p95 4"


def test_a_missing_benchmark_module_is_reported_as_not_available_never_as_a_number():
    lines = run_ours(Ours("bench.no_such_module", "run_it", ("ingest", "reingest")), [], {}, COPY)
    assert [(ln.topic, ln.measured, ln.verdict) for ln in lines] == [
        ("ingest", "not available yet", "not available yet"),
        ("reingest", "not available yet", "not available yet"),
    ]
    table = render_table(lines)
    assert table.count("| not available yet |") == 4  # measured and verdict, for both rows


def test_a_failing_benchmark_shows_its_error_and_the_others_still_run(fake_module):
    def boom(path):
        raise RuntimeError("database went away")

    fake_module("bench.fake_failing", run_it=boom)
    lines = run_ours(Ours("bench.fake_failing", "run_it", ("profile",)), ["/x.csv"], {}, COPY)
    assert lines[0].verdict == "error: RuntimeError: database went away"


def test_rows_are_placed_under_their_topic_and_checked_against_the_target(fake_module):
    def run_ingest_bench(csv_path, *, runs):
        assert (csv_path, runs) == ("/orders.csv", 3)
        return [
            {"what": "full mapping execution, first ingest", "ours": 150_000.0, "unit": "rows/s"},
            {"what": "re-ingest, all unchanged", "ours": 20.0, "unit": "s", "met": True},
        ]

    fake_module("bench.fake_ingest", run_ingest_bench=run_ingest_bench)
    spec = Ours("bench.fake_ingest", "run_ingest_bench", ("ingest", "reingest"))
    lines = run_ours(spec, ["/orders.csv"], {"runs": 3, "scale": 10}, COPY)
    first, again = lines
    assert (first.topic, first.ratio, first.verdict) == ("ingest", "0.38", "**MISSED**")
    assert "psql \\copy: 400,000 rows/s" in first.versus
    assert (again.topic, again.verdict) == ("reingest", "met")


def test_a_benchmark_that_omits_a_topic_leaves_it_marked_as_not_measured(fake_module):
    fake_module(
        "bench.fake_kpi", run_kpi_bench=lambda scale: [{"what": "widget read p95", "value": 4.0, "unit": "ms p95"}]
    )
    lines = run_ours(Ours("bench.fake_kpi", "run_kpi_bench", ("kpi_read", "refresh")), [1000], {}, COPY)
    assert [(ln.topic, ln.verdict) for ln in lines] == [("kpi_read", "met"), ("refresh", "not measured by it")]


def test_topics_are_guessed_from_row_names_when_rows_do_not_say():
    assert topic_of({"what": "incremental refresh, monthly"}, ("kpi_read", "refresh")) == "refresh"
    assert topic_of({"what": "widget read, manager"}, ("kpi_read", "refresh")) == "kpi_read"
    assert topic_of({"what": "page under 50 concurrent users"}, ("data_api", "page_load")) == "page_load"
    assert topic_of({"what": "anything", "topic": "refresh"}, ("kpi_read",)) == "refresh"


def test_verdicts_follow_the_issue_targets():
    assert derived_verdict("profile", {"value": 0.8, "unit": "s"}, {}) == (None, True)
    assert derived_verdict("mapping", {"value": 0.87, "unit": "%"}, {}) == (None, False)
    assert derived_verdict("data_api", {"value": 51.0, "unit": "ms p95"}, {}) == (None, False)
    # A row's own verdict wins.
    assert derived_verdict("profile", {"value": 3.0, "unit": "s", "met": True}, {}) == (None, True)


def test_only_the_arguments_a_benchmark_names_are_passed():
    def takes_scale(scale):
        return scale

    def takes_everything(path, **kwargs):
        return path, sorted(kwargs)

    assert call_flexibly(takes_scale, [], {"scale": 5, "runs": 3}) == 5
    assert call_flexibly(takes_everything, ["p"], {"runs": 3, "quick": True}) == ("p", ["quick", "runs"])


def test_the_readme_table_is_replaced_between_its_markers(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Bench\n\n{run.README_START}\nold table\n{run.README_END}\n\nHow to run.\n")
    monkeypatch.setattr(run, "README", readme)
    facts = {"date": "2026-01-01 00:00 UTC", "cores": "2", "memory": "24 GiB", "PostgreSQL": "15", "DuckDB": "2"}
    run.update_readme("| new | table |\n", facts, {"scale": "1,000 orders", "runs": "median of 3"})
    text = readme.read_text()
    assert "old table" not in text and "| new | table |" in text and text.endswith("How to run.\n")


def test_every_phase_is_recorded_with_its_time_even_when_it_raises():
    from bench.timing import Phases

    phases = Phases()
    with phases("generate files") as phase:
        phase.note = "reused"
    with pytest.raises(RuntimeError), phases("ours: bench.ingest"):
        raise RuntimeError("boom")
    assert [(p.name, p.note) for p in phases.done] == [("generate files", "reused"), ("ours: bench.ingest", "")]
    table = phases.table()
    assert "| generate files |" in table and "| ours: bench.ingest |" in table and "| **total** |" in table


def test_a_heavy_phase_is_skipped_with_its_estimate_only_when_it_exceeds_the_budget(monkeypatch):
    monkeypatch.setitem(run.COST_IN_COPIES, "ingest", 20.0)
    reason = run.budget_skip_reason("ingest", copy_seconds=120.0, budget_min=30, scale=10_000_000)
    assert reason.startswith("skipped: estimated 40 min at 10,000,000 orders (20 × \\copy's 120 s")
    assert reason.endswith("> budget 30 min")
    assert run.budget_skip_reason("ingest", copy_seconds=60.0, budget_min=30, scale=10_000_000) == ""
    assert run.budget_skip_reason("ingest", copy_seconds=None, budget_min=30, scale=10_000_000) == ""
    assert run.budget_skip_reason("ingest", copy_seconds=1e6, budget_min=None, scale=10_000_000) == ""
