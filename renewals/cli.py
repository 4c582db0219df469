"""The `renewals` console command: a thin wrapper over Django's manage.py.

With DEBUG=0 it first refuses to start on unsafe settings (renewals/core/deployment.py), except
for the commands that never start the product (`check`, `collectstatic`, `help`, ...).

A one-shot command (`show`, `import`, `daily`, ...) ends its process as soon as it has finished
and its exit work is done (`exit_now`): the interpreter's own exit would then free its ~770
modules one by one, a quarter of a `renewals show` (#15, docs/performance.md).
"""

import atexit
import os
import sys
import threading

# Commands that do one thing and return. Never a server, a worker, the scheduler, the demo, a
# shell or a loop (`outbox --watch`): their threads and children end their own way.
ONE_SHOT_COMMANDS = frozenset(
    {"show", "import", "daily", "create-token", "endpoints", "sandbox", "check"}
)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")
    from django.core.management import execute_from_command_line

    from renewals.core.deployment import refuse_unsafe_start

    command = sys.argv[1] if len(sys.argv) > 1 else ""
    refuse_unsafe_start(command)
    status = 0
    try:
        execute_from_command_line(["renewals", *sys.argv[1:]])
    except SystemExit as stop:  # a CommandError, an argument error: Django printed it already
        if command not in ONE_SHOT_COMMANDS or not plain_status(stop.code):
            raise
        status = stop.code or 0
    finally:
        # Without a broker, emails a command queued are sent by a background thread: let it
        # finish (at most a minute) before the process exits; anything left stays pending.
        from renewals.notifications import background

        background.drain()
    if command in ONE_SHOT_COMMANDS:
        exit_now(status)


def plain_status(code) -> bool:
    """Is `SystemExit(code)` a plain exit status (None or 0–255), printed nothing by Python?"""
    return code is None or (isinstance(code, int) and 0 <= code <= 255)


def exit_now(status: int) -> None:
    """End the process of a finished command with `status`, without the interpreter's teardown.

    First what the normal exit does that anyone could see: the atexit handlers (among them
    `logging.shutdown`, which flushes and closes the log handlers, and Sentry's flush), the
    database connections closed (the server sees a goodbye, not a dropped socket) and standard
    output and error flushed (a pipe or a file gets all of it). Skipped is only the freeing of
    every module and object. Where the normal exit would differ — another thread it would wait
    for, a flush that fails (Python reports it and exits 120) — the process exits normally.
    """
    if any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(status)
    atexit._run_exitfuncs()  # the interpreter's own exit runs them (and forgets them): so do we
    from django.db import DatabaseError, connections

    try:
        connections.close_all()
    except DatabaseError:  # a connection already lost: the normal exit would not say it either
        pass
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None and not stream.closed:
                stream.flush()
    except OSError:  # e.g. the reader closed the pipe: let Python report it and exit as it does
        sys.exit(status)
    os._exit(status)


if __name__ == "__main__":
    main()
