"""Time the start-up of a `renewals` command against Django's own console script.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.startup

Creates its own private database with one imported subscription, then runs, in turn,
`--runs` times each, `renewals show SUB --date …` (start Django, import the command and what
it needs, read one subscription and print it) and `django-admin --version` (the interpreter
and Django, nothing of the project), each a fresh process, and compares the medians. What the
gap measures is the project's import cost: modules imported at start-up that the command does
not use (Celery, the API framework, …) show here.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import report, setup_django, verdict

BIN = Path(sys.executable).parent


def run(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)  # noqa: S603
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="7 runs each")
    args = parser.parse_args()
    if args.quick:
        args.runs = 7
    setup_django("renewals_bench_startup")
    from django.core.management import call_command

    from bench.import_subscriptions import generate

    path = Path(tempfile.mkdtemp()) / "one.json"
    path.write_text(json.dumps(generate(1, date(2026, 6, 1))))
    call_command("import", str(path), verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    env_show = [str(BIN / "renewals"), "show", "SUB-00000001", "--date", "2026-06-01"]
    env_django = [str(BIN / "django-admin"), "--version"]
    # Without DJANGO_SETTINGS_MODULE, `django-admin --version` loads no project settings.
    bare_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    run(env_show, dict(os.environ)), run(env_django, bare_env)  # warm the file cache
    show, bare = [], []
    for _ in range(args.runs):
        show.append(run(env_show, dict(os.environ)))
        bare.append(run(env_django, bare_env))
    s, b = statistics.median(show), statistics.median(bare)
    report(
        f"Start-up, {args.runs} fresh processes each, median",
        [
            ("renewals show SUB --date", f"{s * 1000:.0f} ms"),
            ("django-admin --version", f"{b * 1000:.0f} ms"),
            ("ratio", f"{s / b:.1f}x"),
        ],
    )
    verdict("startup-show-vs-django-admin", s / b, 3, f"{s * 1000:.0f} ms vs {b * 1000:.0f} ms")


if __name__ == "__main__":
    main()
