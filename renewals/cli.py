"""The `renewals` console command: a thin wrapper over Django's manage.py.

With DEBUG=0 it first refuses to start on unsafe settings (renewals/core/deployment.py), except
for the commands that never start the product (`check`, `collectstatic`, `help`, ...).

Two things make a short command start and end faster (#15, docs/performance.md):

- the cyclic garbage collector is paused while Django starts (`run_command`): what start-up
  imports and builds lives as long as the process, yet the collector scanned it again and again
  (about 180 collections, 30-70 ms of a `renewals show`'s CPU); it is frozen, and collection
  resumes, before the command runs;
- a one-shot command (`show`, `import`, `daily`, ...) ends its process as soon as it has finished
  and its exit work is done (`exit_now`): the interpreter's own exit would then free its ~780
  modules one by one (about 100 ms, a quarter of a `renewals show`).
"""

import atexit
import gc
import os
import sys
import threading

# Commands that do one thing and return. Never a server, a worker, the scheduler, the demo, a
# shell or a loop (`outbox --watch`): their threads and children end their own way.
ONE_SHOT_COMMANDS = frozenset(
    {"show", "import", "daily", "create-token", "endpoints", "sandbox", "check"}
)


def main() -> None:
    gc.disable()  # until the command is loaded: see run_command
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")
    from renewals.core.deployment import refuse_unsafe_start

    command = sys.argv[1] if len(sys.argv) > 1 else ""
    refuse_unsafe_start(command)
    status = 0
    try:
        run_command(["renewals", *sys.argv[1:]])
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


def run_command(argv: list[str]) -> None:
    """Django's `execute_from_command_line(argv)`, resuming garbage collection once the command
    is loaded (Django set up, the command's module imported), before it runs.

    Every object start-up made is frozen first (`gc.freeze`): the collector never scans them
    again, in this command or in the processes a server forks. They are the modules, classes and
    settings that live as long as the process; the few cycles start-up left behind (about 2,000
    objects) stay in memory. They are unfrozen at exit, so that the interpreter's own exit frees
    them as it would have.
    """
    from django.core.management import ManagementUtility

    class Utility(ManagementUtility):
        def fetch_command(self, subcommand):
            command = super().fetch_command(subcommand)
            gc.freeze()
            atexit.register(gc.unfreeze)
            gc.enable()
            return command

    Utility(argv).execute()


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
    gc.disable()  # nothing is freed any more: no collection over what gc.unfreeze gives back
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
