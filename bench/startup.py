"""Time the start-up of a `renewals` command against Django's own console script.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.startup

Creates its own private database with one imported subscription, then runs, in turn,
`--runs` times each, `renewals show SUB --date …` (start Django, import the command and what
it needs, read one subscription and print it) and `django-admin --version` (the interpreter
and Django, nothing of the project), each a fresh process, and compares the medians. What the
gap measures is the project's import cost: modules imported at start-up that the command does
not use (Celery, the API framework, …) show here.

Both commands run with their bytecode cached in one private directory (PYTHONPYCACHEPREFIX,
filled by the warm-up runs), as an installed package has it (pip compiles on install): in a
checkout run with PYTHONDONTWRITEBYTECODE=1, the project's own modules would otherwise be
compiled from source in every run, and Django's never. The processes' CPU time (user + system)
is printed too: on a shared machine it moves less with the load than the wall time.

Both also run with this checkout first on PYTHONPATH: the `renewals` console script would
otherwise import the package the virtualenv was installed from (an editable install points at
one checkout), not the code of the worktree the bench is run from.
"""

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import report, setup_django, verdict

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]  # the checkout whose code is measured


def run(command: list[str], env: dict) -> tuple[float, float]:
    """Run `command`; return its wall time and its CPU time (user + system), in seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)  # noqa: S603
    _, status, usage = os.wait4(process.pid, 0)
    if status:
        raise subprocess.CalledProcessError(status, command)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


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
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="renewals-bench-pyc-")
    cached["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    atexit.register(shutil.rmtree, cached["PYTHONPYCACHEPREFIX"], ignore_errors=True)
    imported = subprocess.run(  # noqa: S603 — where a process started elsewhere finds the package
        [sys.executable, "-c", "import renewals; print(renewals.__file__)"],
        env=cached, cwd=cached["PYTHONPYCACHEPREFIX"], capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert Path(imported).is_relative_to(ROOT), f"measuring {imported}, not {ROOT}"
    # Without DJANGO_SETTINGS_MODULE, `django-admin --version` loads no project settings.
    bare_env = {k: v for k, v in cached.items() if k != "DJANGO_SETTINGS_MODULE"}
    run(env_show, cached), run(env_django, bare_env)  # warm the file and bytecode caches
    show, bare = [], []
    for _ in range(args.runs):
        show.append(run(env_show, cached))
        bare.append(run(env_django, bare_env))
    s, b = statistics.median(w for w, _ in show), statistics.median(w for w, _ in bare)
    s_cpu, b_cpu = statistics.median(c for _, c in show), statistics.median(c for _, c in bare)
    report(
        f"Start-up, {args.runs} fresh processes each, median",
        [
            ("renewals show SUB --date", f"{s * 1000:.0f} ms (CPU {s_cpu * 1000:.0f} ms)"),
            ("django-admin --version", f"{b * 1000:.0f} ms (CPU {b_cpu * 1000:.0f} ms)"),
            ("ratio", f"{s / b:.1f}x (CPU {s_cpu / b_cpu:.1f}x)"),
        ],
    )
    verdict("startup-show-vs-django-admin", s / b, 3, f"{s * 1000:.0f} ms vs {b * 1000:.0f} ms")


if __name__ == "__main__":
    main()
