"""Mapping accuracy on the evaluation sets: ours vs a header-exact baseline, each set on its own rows.

- **dev** (tests/data/eval/ + Northwind): written beside the synonym table, so it measures what the
  proposer was tuned on;
- **held-out** (tests/data/eval_holdout/): headers from the tools' public export documentation, expected
  targets written down before the proposer ever ran on them (see its generate.py): the honest figure.

A column counts as right when the proposer's target for it is the expected one (or one of the expected
ones; for a column expected unmapped: when it proposes no target). A *confident wrong map* is a wrong
target proposed with confidence ≥ CONFIDENT: the mistakes `ingest --auto` would load.

    .venv/bin/python -m bench.mapping_accuracy            # prints a table per file and the totals
    VERBOSE=1 .venv/bin/python -m bench.mapping_accuracy   # … and every wrong column
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "tests" / "data" / "eval"
HOLDOUT_DIR = ROOT / "tests" / "data" / "eval_holdout"
SETS = {"dev": EVAL_DIR, "held-out": HOLDOUT_DIR}


def _expected_files(directory: Path = EVAL_DIR) -> dict[str, dict]:
    return json.loads((directory / "expected.json").read_text())


def _path(name: str, directory: Path = EVAL_DIR) -> Path:
    if name.startswith("northwind/"):
        from django.conf import settings

        return Path(settings.DEMO_DATA_DIR) / name.removeprefix("northwind/")
    return directory / name


def _baseline(columns: list[str]) -> dict[str, list[tuple[str | None, float]]]:
    """Header-exact matching: a header equal to a canonical column name (case, spaces, underscores
    ignored) maps to the first table that has that column; everything else stays unmapped."""
    from canonical.schema import TABLES

    def key(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    by_name: dict[str, str] = {}
    for table in TABLES:
        for col in table.columns:
            by_name.setdefault(key(col.name), f"{table.name}.{col.name}")
    return {c: [(by_name.get(key(c)), 1.0)] for c in columns}


def evaluate_file(name: str, spec: dict, directory: Path = EVAL_DIR) -> dict:
    """Per-file counts for ours and the baseline, plus the wrong columns (for the test's message)."""
    from mappings.intake.dialect import sniff_file
    from mappings.profiling.profile import profile_file
    from mappings.proposer.propose import propose_from_profile
    from mappings.proposer.scoring import CONFIDENT

    path = _path(name, directory)
    dialect = sniff_file(path).as_json()
    profile = profile_file(path=path, dialect=dialect)
    doc = propose_from_profile(
        file=path.name, profile=profile, dialect=dialect, domain_hint=spec.get("domain_hint"), learned={}
    )
    ours: dict[str, list[tuple[str | None, float]]] = {}
    for p in doc["proposals"]:
        target = f"{p['canonical_table']}.{p['canonical_col']}" if p["canonical_table"] else None
        ours.setdefault(p["source_col"], []).append((target, p["confidence"]))
    result = {"file": name, "columns": len(spec["columns"])}
    for label, proposed in (("ours", ours), ("baseline", _baseline(list(spec["columns"])))):
        right = confident_wrong = 0
        wrong: list[str] = []
        for column, expected in spec["columns"].items():
            accepted = set(expected) if isinstance(expected, list) else {expected}
            targets = proposed.get(column, [(None, 0.0)])
            mapped = [(t, c) for t, c in targets if t is not None]
            if (None in accepted and not mapped) or any(t in accepted for t, _ in mapped):
                right += 1
            else:
                wrong.append(f"{column}: expected {expected}, got {[t for t, _ in mapped] or None}")
                confident_wrong += sum(1 for t, c in mapped if t not in accepted and c >= CONFIDENT)
        result[label] = {"right": right, "confident_wrong": confident_wrong, "wrong": wrong}
    return result


def evaluate(directory: Path = EVAL_DIR) -> list[dict]:
    return [evaluate_file(name, spec, directory) for name, spec in _expected_files(directory).items()]


def _rows(label: str, results: list[dict]) -> list[dict]:
    total = sum(r["columns"] for r in results)
    ours_right = sum(r["ours"]["right"] for r in results)
    base_right = sum(r["baseline"]["right"] for r in results)
    ours_cw = sum(r["ours"]["confident_wrong"] for r in results)
    base_cw = sum(r["baseline"]["confident_wrong"] for r in results)
    accuracy = 100 * ours_right / total
    return [
        {
            "what": f"mapping accuracy, {label} set ({len(results)} files, {total} columns, offline)",
            "topic": "mapping",
            "ours": round(accuracy, 1),
            "unit": "%",
            "reference": "header-exact matching",
            "reference_value": round(100 * base_right / total, 1),
            "target": "≥ 90%",
            "met": accuracy >= 90,
            "notes": f"{ours_right}/{total} right; confident wrong maps: ours {ours_cw}, header-exact {base_cw}",
        },
        {
            "what": f"confident wrong maps, {label} set (confidence ≥ 0.8, wrong target)",
            "topic": "mapping",
            "ours": ours_cw,
            "unit": "columns",
            "reference": "header-exact matching",
            "reference_value": base_cw,
        },
    ]


def run_mapping_accuracy() -> list[dict]:
    """Rows for the shared harness (bench/run.py): per set, accuracy and confident wrong maps, ours vs
    header-exact. The dev set's two rows come first, then the held-out set's."""
    return [row for label, directory in SETS.items() for row in _rows(label, evaluate(directory))]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    for label, directory in SETS.items():
        results = evaluate(directory)
        print(f"\n### {label} set ({directory.relative_to(ROOT)})\n")
        print(
            "| file | columns | ours right | ours confident wrong | header-exact right | header-exact confident wrong |"
        )
        print("|---|---|---|---|---|---|")
        for r in results:
            print(
                f"| {r['file']} | {r['columns']} | {r['ours']['right']} | {r['ours']['confident_wrong']} "
                f"| {r['baseline']['right']} | {r['baseline']['confident_wrong']} |"
            )
        for row in _rows(label, results):
            print(f"{row['what']}: ours {row['ours']} {row['unit']} vs {row['reference']} {row['reference_value']}"
                  + (f" ({row['notes']})" if row.get("notes") else ""))  # fmt: skip
        if os.environ.get("VERBOSE"):
            for r in results:
                for w in r["ours"]["wrong"]:
                    print(f"  {r['file']}: {w}")


if __name__ == "__main__":
    main()
