"""The real-file corpus stays honest: every file listed with its origin, every file with a truth, a third
held out. No product scoring here: that is `make bench-real` (bench/real_corpus.py)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "real"
NOT_DATA = {"MANIFEST.toml", "README.md"}
REQUIRED = ("origin", "licence", "what", "grain", "truncation", "split")


def _manifest() -> dict:
    return tomllib.loads((CORPUS / "MANIFEST.toml").read_text())


def _data_files() -> set[str]:
    return {p.name for p in CORPUS.iterdir() if p.is_file() and p.name not in NOT_DATA}


def test_the_manifest_lists_every_file_in_the_corpus_and_nothing_else():
    listed = set(_manifest()["files"])
    assert listed == _data_files(), (
        f"not in MANIFEST.toml: {sorted(_data_files() - listed)}; missing: {sorted(listed - _data_files())}"
    )


def test_every_entry_says_where_the_file_comes_from_and_what_it_is():
    for name, entry in _manifest()["files"].items():
        blank = [key for key in REQUIRED if not str(entry.get(key, "")).strip()]
        assert not blank, f"{name}: no {blank}"
        assert entry["split"] in {"dev", "heldout"}, name
        assert entry["origin"].startswith(("github:", "https://")), name


def test_the_corpus_is_big_and_varied_enough_to_mean_something():
    files = _data_files()
    assert len(files) >= 24
    assert len({f for f in files if f.endswith((".xlsx", ".xls", ".ods"))}) >= 3


def test_every_file_has_a_truth_with_every_column_and_its_counts():
    for name, entry in _manifest()["files"].items():
        path = CORPUS / "truth" / f"{name}.json"
        assert path.exists(), f"no truth for {name}"
        truth = json.loads(path.read_text())
        assert truth["file"] == name
        assert truth["split"] == entry["split"], f"{name}: truth split differs from the manifest: rerun compute.py"
        assert truth["columns"], f"{name}: truth names no column"
        assert truth["rows"] > 0
        for column, targets in truth["columns"].items():
            assert targets is None or (isinstance(targets, list) and targets), f"{name}: {column!r}"
        if truth["revenue_per_year"] is not None:
            assert truth["revenue_kind"] in {"orders", "invoices"}, name


def test_at_least_a_third_of_the_files_and_eight_of_them_are_held_out():
    manifest = _manifest()
    heldout = [n for n, e in manifest["files"].items() if e["split"] == "heldout"]
    assert len(heldout) >= 8
    assert 3 * len(heldout) >= len(manifest["files"])
    assert manifest["split_date"]


def test_every_held_out_file_says_since_when_it_is_held_out():
    """A held-out part is replaced when it is tuned on (README.md, "Split"): each held-out entry names the day
    it was set aside, never before the first split."""
    manifest = _manifest()
    for name, entry in manifest["files"].items():
        if entry["split"] == "heldout":
            since = str(entry.get("heldout_since", ""))
            assert since >= manifest["split_date"], f"{name}: heldout_since {since!r}"


def test_a_dataset_ingested_together_is_on_one_side_of_the_split_in_a_set_order():
    groups: dict[str, list[dict]] = {}
    for entry in _manifest()["files"].values():
        if entry.get("group"):
            groups.setdefault(entry["group"], []).append(entry)
    assert groups
    for group, entries in groups.items():
        assert len({e["split"] for e in entries}) == 1, f"group {group} straddles the split"
        orders = [e.get("order") for e in entries]
        assert None not in orders and len(set(orders)) == len(orders), f"group {group}: orders {orders}"
