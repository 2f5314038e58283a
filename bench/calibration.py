"""Which evidence decides each proposal, and is the confidence honest? On the real corpus's dev files only.

For every dev file of tests/data/real (MANIFEST.toml `split = "dev"`; held-out files are never read) the
file goes through the upload's intake and the profile, in this process, then is proposed twice: with each
rule's own confidence (`calibrate_confidence=False`) and calibrated (proposer/calibration.py: two kinds of
evidence, or decisive values). For every proposed target it records the confidence before and after, whether
the truth accepts it, the kinds of evidence that spoke for it (the header words, the values) and the rule
that gave it (the reason's first clause with quoted names blanked).

It prints (and with --results writes):
- a reliability table: confidence bucket → proposals, share right, before and after;
- the confident proposals (≥ the auto-accept threshold) by the kinds of evidence behind them;
- per rule: the dataset groups it decides confidently and, leave-one-dataset-out, how often it is right on
  the groups other than the one it decides most (the file it was most likely written for);
- the confident wrong proposals, before and after, and which files the gate would refuse after.

No database: learned mappings and keys already loaded (`known_keys`) play no part, so grouped files can read
a little differently than through `manage.py propose_mapping` (bench/real_corpus.py runs the product itself).

    .venv/bin/python -m bench.calibration [--results bench/RESULTS-calibration.md] [--cache /tmp/profiles]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "real"
BUCKETS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


@dataclass
class Row:
    file: str
    group: str
    column: str
    target: str
    before: float
    after: float
    right: bool
    kinds: tuple[str, ...]
    values: str
    header: float
    rule: str


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _profile(path: Path, cache: Path | None) -> tuple[dict, dict]:
    from mappings.intake.upload import readable_dialect
    from mappings.profiling.profile import profile_file
    from mappings.services.upload import file_intake_check

    stored = cache / f"{path.name}.json" if cache else None
    if stored and stored.exists() and stored.stat().st_mtime >= path.stat().st_mtime:
        saved = json.loads(stored.read_text())
        return saved["profile"], saved["dialect"]
    with file_intake_check(path) as (readable, _, dialect):
        profile = profile_file(path=readable, dialect=readable_dialect(dialect), total_rows=dialect["rows"])
    dialect = {k: v for k, v in dialect.items() if k not in ("columns", "rows", "ragged")}
    if stored:
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(json.dumps({"profile": profile, "dialect": dialect}, default=str))
    return profile, dialect


def rule_of(reason: str) -> str:
    """The rule behind a reason: its first clause, names and numbers blanked ("header matches synonym '…'")."""
    first = re.split(r";|, so ", reason, maxsplit=1)[0]
    first = re.sub(r"'[^']*'", "'…'", first)
    first = re.sub(r"\([^)]*\)", "(…)", first)
    first = re.sub(r"\b(canonical_\w+)\.\w+", r"\1.…", first)
    return re.sub(r"\d+(\.\d+)?", "N", first).strip()[:90]


def read_file(name: str, entry: dict, truth: dict, cache: Path | None) -> tuple[list[Row], list[str]]:
    from mappings.proposer.calibration import read_signals
    from mappings.proposer.propose import _proposal
    from mappings.proposer.scoring import Target
    from mappings.proposer.structure import money_columns

    profile, dialect = _profile(CORPUS / name, cache)
    by_name = {c["name"]: c for c in profile["columns"]}
    grain = profile.get("grain") or {}
    dates = sum(1 for c in by_name.values() if c.get("type") in ("date", "datetime"))
    args = {"file": name, "profile": profile, "dialect": dialect}
    before = _proposal(**args, calibrate_confidence=False)[0]["proposals"]
    after = _proposal(**args)[0]["proposals"]
    after_conf = {(p["source_col"], p["canonical_table"], p["canonical_col"]): p["confidence"] for p in after}
    truth_columns = {k.strip(): v for k, v in truth["columns"].items()}
    rows = []
    for p in before:
        if not p["canonical_table"] or str(p["canonical_col"]).startswith("attributes."):
            continue
        target = f"{p['canonical_table']}.{p['canonical_col']}"
        # The truth keeps a header as the file writes it (" Sales"); the reader strips it.
        accepted = truth_columns.get((p["source_col"] or "").strip())
        right = target in {t for t in (accepted or []) if t}
        if p["source_col"] is None:
            right = True  # a computed column (a constant) is not in the truth: counted right, its confidence shown
        signals = read_signals(
            by_name.get(p["source_col"] or ""),
            Target(p["canonical_table"], p["canonical_col"]),
            grain=grain,
            date_columns=dates,
            money_columns=len(money_columns(list(by_name.values()))),
        )
        rows.append(
            Row(
                file=name,
                group=entry.get("group") or name,
                column=str(p["source_col"]),
                target=target,
                before=p["confidence"],
                after=after_conf.get((p["source_col"], p["canonical_table"], p["canonical_col"]), p["confidence"]),
                right=right,
                kinds=signals.kinds,
                values=signals.values + (" (decisive)" if signals.decisive else ""),
                header=round(signals.header, 2),
                rule=rule_of(p["reason"]),
            )
        )
    return rows, _gate(after, profile)


def _gate(proposals: list[dict], profile: dict) -> list[str]:
    from django.conf import settings

    from mappings.proposer.gate import auto_decision

    threshold = settings.MAPPING_AUTO_CONFIDENCE
    return [n.line() for n in auto_decision(proposals=proposals, profile=profile, threshold=threshold).problems]


def _bucket(c: float) -> str:
    for lo, hi in zip(BUCKETS, BUCKETS[1:], strict=False):
        if lo <= c < hi:
            return f"{lo:.1f}–{min(hi, 1.0):.1f}"
    return "?"


def render(rows: list[Row], gates: dict[str, list[str]], threshold: float) -> str:
    out = ["# Calibration on the real corpus's dev files", ""]
    files = sorted({r.file for r in rows} | set(gates))
    out += [
        f"{len(files)} dev files, {len(rows)} proposed targets (computed columns included), auto-accept "
        f"threshold {threshold}; `python -m bench.calibration` (in process, no database).",
        "",
        "## Reliability: confidence bucket → share right",
        "",
        "| confidence | before: proposals | before: right | after: proposals | after: right |",
        "|---|---|---|---|---|",
    ]
    for lo, hi in zip(BUCKETS, BUCKETS[1:], strict=False):
        label = _bucket(lo)
        b = [r for r in rows if lo <= r.before < hi]
        a = [r for r in rows if lo <= r.after < hi]
        out.append(f"| {label} | {len(b)} | {_share(b)} | {len(a)} | {_share(a)} |")
    for when in ("before", "after"):
        conf = [r for r in rows if getattr(r, when) >= threshold]
        wrong = [r for r in conf if not r.right]
        out.append(f"\n{when}: {len(conf)} confident, {len(wrong)} confident wrong.")
    out += [
        "",
        "## Confident proposals (before) by the kinds of evidence behind them",
        "",
        "| evidence | confident | right | confident after |",
        "|---|---|---|---|",
    ]
    by_kinds: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if r.before >= threshold:
            by_kinds[" + ".join(r.kinds) or "none"].append(r)
    for kinds, part in sorted(by_kinds.items(), key=lambda kv: -len(kv[1])):
        still = sum(1 for r in part if r.after >= threshold)
        out.append(f"| {kinds} | {len(part)} | {_share(part)} | {still} |")
    out += [
        "",
        "## Rules, leave one dataset out",
        "",
        "A rule's confident proposals (before calibration) by dataset group; *other groups* leaves out the group it "
        "decides most (the one it was most likely written for) and scores the rest.",
        "",
        "| rule (first clause of the reason) | groups | confident | right | other groups: right | one kind only |",
        "|---|---|---|---|---|---|",
    ]
    by_rule: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if r.before >= threshold:
            by_rule[r.rule].append(r)
    for rule, part in sorted(by_rule.items(), key=lambda kv: -len(kv[1])):
        groups = Counter(r.group for r in part)
        top = groups.most_common(1)[0][0]
        others = [r for r in part if r.group != top]
        single = sum(1 for r in part if len(r.kinds) < 2)
        out.append(
            f"| {rule.replace('|', '/')} | {len(groups)} | {len(part)} | {_share(part)} | "
            f"{_share(others) if others else '- (one group)'} | {single} |"
        )
    out += ["", "## Confident wrong", ""]
    for r in rows:
        if not r.right and (r.before >= threshold or r.after >= threshold):
            out.append(
                f"- {r.file} '{r.column}' → {r.target}: {r.before:.2f} → {r.after:.2f} "
                f"(header {r.header}, values {r.values}; {r.rule})"
            )
    out += ["", "## Lowered below the threshold but right (what `--auto` no longer loads unseen)", ""]
    for r in rows:
        if r.right and r.before >= threshold > r.after:
            out.append(
                f"- {r.file} '{r.column}' → {r.target}: {r.before:.2f} → {r.after:.2f} "
                f"(header {r.header}, values {r.values})"
            )
    refused = {f: g for f, g in gates.items() if g}
    out += ["", f"## The gate after calibration (in process): {len(refused)} of {len(gates)} files refused", ""]
    out += [f"- {f}: {g[0]}" for f, g in sorted(refused.items())]
    return "\n".join(out) + "\n"


def _share(part: list[Row]) -> str:
    if not part:
        return "-"
    right = sum(1 for r in part if r.right)
    return f"{right}/{len(part)} = {100 * right / len(part):.0f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", help="also write the tables to this markdown file")
    parser.add_argument("--cache", help="a folder to keep the dev files' profiles in between runs")
    parser.add_argument("--only", help="comma-separated dev file names")
    parser.add_argument("--rows", help="also write every proposal's row as JSON lines to this file")
    args = parser.parse_args(argv)
    _setup()
    from django.conf import settings

    manifest = tomllib.loads((CORPUS / "MANIFEST.toml").read_text())["files"]
    dev = {n: e for n, e in manifest.items() if e.get("split") == "dev"}
    if args.only:
        dev = {n: e for n, e in dev.items() if n in set(args.only.split(","))}
    cache = Path(args.cache) if args.cache else None
    rows: list[Row] = []
    gates: dict[str, list[str]] = {}
    for name, entry in dev.items():
        truth = json.loads((CORPUS / "truth" / f"{name}.json").read_text())
        try:
            found, gates[name] = read_file(name, entry, truth, cache)
        except Exception as exc:  # one file's failure is a line of the report
            gates[name] = [f"bench: {type(exc).__name__}: {exc}"]
            continue
        rows += found
        print(f"  {name}: {len(found)} targets", file=sys.stderr)
    text = render(rows, gates, settings.MAPPING_AUTO_CONFIDENCE)
    print(text)
    if args.results:
        Path(args.results).write_text(text)
    if args.rows:
        Path(args.rows).write_text("".join(json.dumps(r.__dict__) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
