"""Run every benchmark on PostgreSQL, at sizes that fit in under 15 minutes, and print one table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.all

(`make bench`.) Each benchmark runs in its own process and its own throw-away database (see
bench/common.py), prints its full report, and the summary at the end puts each measured figure
beside its same-run baseline. Sizes are smaller than each benchmark's default so that the whole
run fits; run a benchmark alone (`python -m bench.<name> --help`) for its full size, as recorded
in docs/performance.md.
"""

import os
import re
import subprocess
import sys
import time

# name, module, arguments, [(figure label, baseline label, ratio label)] from its report rows
BENCHES = [
    (
        "import", "bench.import_subscriptions", ["--count", "20000"],
        [("renewals import", "COPY baseline", "import / baseline")],
    ),
    (
        "bulk checkout", "bench.bulk_renewal", ["--runs", "5"],
        [("place_order + fulfilment", "raw-SQL baseline", "ratio")],
    ),
    (
        "daily run", "bench.daily_run",
        ["--total", "200000", "--small", "20000", "--due-per-date", "600", "--charges", "20"],
        [("200,000 daily run", "20,000 daily run", "run time ratio big/small")],
    ),
    (
        "API / portal list", "bench.api_list", ["--count", "10000", "--requests", "5"],
        [
            ("API GET /api/v1/subscriptions?page_size=500", "bare Django view", None),
            ("portal /billing/subscriptions/", "bare Django view", None),
        ],
    ),
    (
        "webhooks", "bench.webhooks", ["--events", "3000"],
        [("handler", "baseline", "ratio")],
    ),
]  # fmt: skip

ROW = re.compile(r"^  \s*(\S.*?)\s{2,}(\S.*)$")


def rows_of(output: str) -> list[tuple[str, str]]:
    """Return the (label, value) rows of a benchmark's report (bench.common.report)."""
    return [(m[1].strip(), m[2].strip()) for m in map(ROW.match, output.splitlines()) if m]


def find(rows, label: str | None) -> str:
    if label is None:
        return ""
    return next((value for key, value in rows if key.startswith(label)), "?")


def main() -> int:
    env = {**os.environ}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    summary, failed = [], []
    started = time.perf_counter()
    for name, module, args, picks in BENCHES:
        print(f"\n=== {name}: python -m {module} {' '.join(args)}", flush=True)
        t0 = time.perf_counter()
        result = subprocess.run(  # noqa: S603 — our own interpreter and modules
            [sys.executable, "-m", module, *args], env=env, capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        print(result.stdout, end="")
        if result.returncode != 0:
            print(result.stderr[-3000:], file=sys.stderr)
            failed.append(name)
        rows = rows_of(result.stdout)
        for figure, base, ratio in picks:
            summary.append(
                (name, figure, find(rows, figure), find(rows, base), find(rows, ratio), wall)
            )
    total = time.perf_counter() - started
    print(f"\n=== Summary ({total / 60:.1f} min in all; figure vs same-run baseline)")
    widths = [18, 46, 44, 44, 28]
    header = ("benchmark", "figure", "value", "baseline", "ratio")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for name, figure, value, base, ratio, _wall in summary:
        cells = (name, figure, value, base, ratio)
        print("  ".join(str(c)[:w].ljust(w) for c, w in zip(cells, widths, strict=True)))
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
