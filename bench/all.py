"""Run every benchmark on PostgreSQL and print one verdict line per judged figure.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.all [--quick]

(`make bench`, `make bench-quick`.) Each benchmark runs in its own process and its own private
database (`<name>_<suffix>`, bench/common.py: the suffix from RENEWALS_BENCH_SUFFIX, else this
process's id; dropped at the end), prints its full report, and every judged figure as exactly

    bench: <name> ratio=<project / same-run baseline> target<=<target>

The full sizes are the default (tens of minutes on 2 cores); `--quick` runs each benchmark at
its reduced size (`python -m bench.<name> --quick`, a few minutes in all). The summary repeats
the verdict lines with the load average before and after, since on a shared machine the
absolute times move with the load and only the same-run ratios compare. Exit status 1 if a
benchmark failed to run (a figure over its target is reported, not an error: see `over`).
"""

import argparse
import os
import re
import subprocess
import sys
import time

BENCHES = [
    ("daily run", "bench.daily_run"),
    ("webhooks", "bench.webhooks"),
    ("bulk checkout", "bench.bulk_renewal"),
    ("API list", "bench.api_list"),
    ("portal list", "bench.portal_list"),
    ("import", "bench.import_subscriptions"),
    ("start-up", "bench.startup"),
    ("scale-out", "bench.scale_out"),
]
VERDICT = re.compile(r"^bench: (\S+) ratio=([0-9.]+) target<=([0-9.]+)$")


def load() -> str:
    return "load average {:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes, a few minutes")
    parser.add_argument("--only", action="append", help="run only these modules (bench.x)")
    args = parser.parse_args()
    env = {**os.environ}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    env.setdefault("RENEWALS_BENCH_SUFFIX", f"all_{os.getpid()}")
    verdicts, notes, failed = [], [], []
    started, load_before = time.perf_counter(), load()
    for name, module in BENCHES:
        if args.only and module not in args.only:
            continue
        command = [sys.executable, "-m", module, *(["--quick"] if args.quick else [])]
        print(f"\n=== {name}: python -m {module}{' --quick' if args.quick else ''}", flush=True)
        result = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
        print(result.stdout, end="", flush=True)
        if result.returncode != 0:
            print(result.stderr[-3000:], file=sys.stderr)
            failed.append(name)
        for line in result.stdout.splitlines():
            if VERDICT.match(line):
                verdicts.append(line)
            elif line.startswith("# ") and ": " in line:
                notes.append(line)
    minutes = (time.perf_counter() - started) / 60
    print(f"\n=== Summary: {minutes:.1f} min; before: {load_before}; after: {load()}")
    over = []
    for line in verdicts:
        print(line)
        name, ratio, target = VERDICT.match(line).groups()
        if float(ratio) > float(target):
            over.append(name)
    for line in notes:
        print(line)
    print(f"over target: {', '.join(over) if over else 'none'}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
