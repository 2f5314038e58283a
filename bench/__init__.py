"""Benchmarks: a seeded data generator (`bench.generate`), the reference measurements
(`bench.references`) and the harness that runs everything side by side (`python -m bench.run`).

Each benchmark module exposes a function returning a list of result rows, one dict per table row.
The harness reads these keys (all optional except `what`); anything else is shown under notes:

    {
        "what": "ingest 1M-row orders CSV, full mapping execution",  # the row's name
        "ours": 412345.0,              # our figure (number, or text such as "p50 3.1 / p95 4.0")
        "unit": "rows/s",              # unit of `ours` and `reference_value`
        "reference": "psql \\copy",     # what we compare with
        "reference_value": 459000.0,   # its figure, same unit
        "ratio": 0.90,                 # ours / reference, from runs in the same process
        "target": ">= 0.50 of \\copy",  # the issue's target, in words
        "met": True,                   # True / False / None (no target)
        "notes": "peak RSS 310 MB",
    }

Timings are medians of several runs (`bench.timing.median_time`); they are printed, never asserted.
"""
