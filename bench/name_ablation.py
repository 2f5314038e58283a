"""What the words decide: each dev file proposed with its own name, a neutral name, and neutral headers too.

For every dev file of tests/data/real (MANIFEST.toml `split = "dev"`; held-out files are never read) the file goes
through the upload's intake and the profile in this process (bench.calibration's reader), then is proposed three
times: as named (`real`), named `upload.csv` (`neutral name`), and named `upload.csv` with every header replaced by
`col1`, `col2` … in the whole profile (`neutral headers`: what the values alone decide). Each column's targets are
scored against the truth as bench.real_corpus scores them (a subset of the accepted targets; none where the truth
allows none). It prints the counts and every column whose proposal the file name (or the headers) changes, with
which reading is right.

No database: learned mappings and keys already loaded play no part.

    .venv/bin/python -m bench.name_ablation [--cache /tmp/profiles] [--only a.csv,b.csv] [--headers]
"""

from __future__ import annotations

import argparse
import copy
import json
import tomllib
from pathlib import Path

from bench.calibration import CORPUS, _profile, _setup

NEUTRAL = "upload.csv"


def targets(proposals: list[dict]) -> dict[str, frozenset[str]]:
    """Each column's canonical targets (attributes count as none)."""
    out: dict[str, set[str]] = {}
    for p in proposals:
        col = str(p.get("source_col") or "").strip()
        if not col:
            continue
        out.setdefault(col, set())
        if p.get("canonical_table") and p.get("canonical_col") and not str(p["canonical_col"]).startswith("attr"):
            out[col].add(f"{p['canonical_table']}.{p['canonical_col']}")
    return {k: frozenset(v) for k, v in out.items()}


def right(found: frozenset[str], expected: list | None) -> bool:
    acceptable = {t for t in (expected or []) if t}
    null_ok = expected is None or None in expected
    return found <= acceptable and (bool(found) or null_ok)


def _rename(value, names: dict[str, str]):
    """The profile with every string equal to a header (keys included) replaced by its neutral name."""
    if isinstance(value, dict):
        return {names.get(k, k) if isinstance(k, str) else k: _rename(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    if isinstance(value, str):
        return names.get(value, value)
    return value


def neutral_headers(profile: dict) -> tuple[dict, dict[str, str]]:
    names = {c["name"]: f"col{i + 1}" for i, c in enumerate(profile["columns"])}
    renamed = copy.deepcopy(profile)
    columns = [_rename(c, {}) for c in renamed["columns"]]
    for c in columns:
        c["name"] = names[c["name"]]
    renamed = _rename({k: v for k, v in renamed.items() if k != "columns"}, names)
    renamed["columns"] = columns
    return renamed, names


def propose(name: str, profile: dict, dialect: dict) -> dict[str, frozenset[str]]:
    from mappings.proposer.propose import _proposal

    return targets(_proposal(file=name, profile=profile, dialect=dialect)[0]["proposals"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="a folder to keep the dev files' profiles in between runs")
    parser.add_argument("--only", help="comma-separated dev file names")
    parser.add_argument("--headers", action="store_true", help="also propose with neutral headers (col1 …)")
    parser.add_argument(
        "--names",
        default="transactions.csv,orders.csv,invoices.csv,payments.csv,expenses.csv,customers.csv,products.csv",
        help="other file names to propose each file under: columns that go right -> wrong against the neutral name",
    )
    args = parser.parse_args(argv)
    _setup()
    manifest = tomllib.loads((CORPUS / "MANIFEST.toml").read_text())["files"]
    dev = sorted(n for n, e in manifest.items() if e.get("split") == "dev")
    if args.only:
        dev = [n for n in dev if n in set(args.only.split(","))]
    cache = Path(args.cache) if args.cache else None
    counts = {"columns": 0, "real": 0, "neutral": 0, "headers": 0}
    others = [n for n in args.names.split(",") if n]
    misled: dict[str, list[str]] = {n: [] for n in others}
    name_changes: list[str] = []
    header_lines: list[str] = []
    header_changes = {"values right, words wrong": 0, "words right, values wrong": 0, "both wrong": 0}
    for name in dev:
        truth = json.loads((CORPUS / "truth" / f"{name}.json").read_text())["columns"]
        truth = {k.strip(): v for k, v in truth.items()}
        try:
            profile, dialect = _profile(CORPUS / name, cache)
            real = propose(name, profile, dialect)
            neutral = propose(NEUTRAL, profile, dialect)
            if args.headers:
                renamed, names = neutral_headers(profile)
                by_col = propose(NEUTRAL, renamed, dialect)
                plain = {col: by_col.get(names.get(col, col), frozenset()) for col in real}
            renamed_as = {other: propose(other, profile, dialect) for other in others}
        except Exception as exc:  # noqa: BLE001 - a bench reports and goes on
            print(f"{name}: {type(exc).__name__}: {exc}")
            continue
        for col, expected in truth.items():
            counts["columns"] += 1
            r, n = real.get(col, frozenset()), neutral.get(col, frozenset())
            counts["real"] += right(r, expected)
            counts["neutral"] += right(n, expected)
            if r != n:
                verdict = "name right" if right(r, expected) else "neutral right" if right(n, expected) else "both"
                name_changes.append(f"{verdict}: {name} '{col}': {sorted(r)} (named) vs {sorted(n)} (neutral)")
            for other, found in renamed_as.items():
                o = found.get(col, frozenset())
                if right(n, expected) and not right(o, expected):
                    misled[other].append(f"{name} '{col}': {sorted(n)} -> {sorted(o)}")
            if args.headers:
                h = plain.get(col, frozenset())
                counts["headers"] += right(h, expected)
                if h != n:
                    key = (
                        "values right, words wrong"
                        if right(h, expected)
                        else "words right, values wrong"
                        if right(n, expected)
                        else "both wrong"
                    )
                    header_changes[key] += 1
                    if key == "values right, words wrong":
                        header_lines.append(f"{name} '{col}': {sorted(n)} (headers) vs {sorted(h)} (col1 …)")
    print(f"{len(dev)} dev files, {counts['columns']} truth columns")
    print(f"right with the real name: {counts['real']}; with '{NEUTRAL}': {counts['neutral']}")
    if args.headers:
        print(f"right with neutral headers (values alone): {counts['headers']}; headers change: {header_changes}")
        for line in header_lines:
            print(f"    values right, words wrong: {line}")
    for other, lines in misled.items():
        files = len({line.split(" '")[0] for line in lines})
        print(f"named '{other}': {len(lines)} columns right under '{NEUTRAL}' turn wrong, in {files} files")
        for line in lines:
            print(f"    {line}")
    print(f"columns the file name changes: {len(name_changes)}")
    for line in sorted(name_changes):
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
