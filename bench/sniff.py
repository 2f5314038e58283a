"""How long the upload's dialect sniff takes on quotes that never close, whole sample vs bounded.

    .venv/bin/python -m bench.sniff              # samples of 8 … 128 KiB
    .venv/bin/python -m bench.sniff --max-kib 256  # up to the whole SAMPLE_BYTES (about a minute unbounded)

Every row's code is written '0123 (Excel's text prefix). csv.Sniffer's quote regexes scan from each such
quote to the end of the sample, so the whole-sample column grows with the square of its size; the
upload's `sniff_text_dialect` gives the Sniffer at most SNIFF_CHARS, so its column stays flat.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import time

from mappings.intake.dialect import DELIMITERS, SNIFF_CHARS, sniff_text_dialect


def apostrophe_codes(size: int) -> str:
    lines, i = ["id,code,name"], 0
    while sum(len(line) + 1 for line in lines) < size:
        lines.append(f"{i},'0{i},Name {i}")
        i += 1
    return "\n".join(lines) + "\n"


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _whole(text: str) -> None:
    with contextlib.suppress(csv.Error):
        csv.Sniffer().sniff(text, delimiters="".join(DELIMITERS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-kib", type=int, default=128)
    args = parser.parse_args()
    print(f"SNIFF_CHARS = {SNIFF_CHARS}")
    print("| sample | csv.Sniffer on the whole sample | sniff_text_dialect (bounded) |")
    print("|---:|---:|---:|")
    kib = 8
    while kib <= args.max_kib:
        text = apostrophe_codes(kib * 1024)
        whole = _seconds(lambda text=text: _whole(text))
        bounded = _seconds(lambda text=text: sniff_text_dialect(text))
        print(f"| {kib} KiB | {whole:.3f} s | {bounded:.3f} s |", flush=True)
        kib *= 2


if __name__ == "__main__":
    main()
