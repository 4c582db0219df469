"""#15: a one-shot `renewals` command ends its process at once when it has finished
(renewals/cli.py `exit_now`), with the same exit status, output and errors as the interpreter's
own exit, every byte of its output in the pipe or file, and its atexit handlers run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.operations.test_import import EXAMPLE

PROJECT_DIR = Path(__file__).resolve().parents[2]
# The same command, exited the interpreter's own way: Django's entry point without renewals.cli.
DJANGO_EXIT = (
    "import sys; from django.core.management import execute_from_command_line; "
    "execute_from_command_line(['renewals', *sys.argv[1:]])"
)
# renewals.cli, with an object that says when the interpreter frees it (only a full teardown
# does) and an atexit handler that says it ran.
WATCHED = (
    "import atexit, sys\n"
    "class Canary:\n"
    "    def __del__(self): sys.stderr.write('torn down\\n')\n"
    "canary = Canary()\n"
    "atexit.register(sys.stderr.write, 'atexit ran\\n')\n"
    "{before}\n"
    "sys.argv = ['renewals', *sys.argv[1:]]\n"
    "from renewals.cli import main\n"
    "main()\n"
)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A fresh SQLite database with EXAMPLE imported; stdout block-buffered (no PYTHONUNBUFFERED)."""
    tmp = tmp_path_factory.mktemp("cli")
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "PYTHONUNBUFFERED", "RENEWALS_TODAY")
    }
    environ.update(
        RENEWALS_DATA_DIR=str(tmp / "data"),
        DJANGO_SETTINGS_MODULE="renewals.settings",
        PYTHONPATH=str(PROJECT_DIR),
    )
    data = tmp / "example.json"
    data.write_text(json.dumps(EXAMPLE), encoding="utf-8")
    assert run(environ, "-c", DJANGO_EXIT, "migrate", "-v0").returncode == 0
    imported = renewals(environ, "import", str(data))
    assert imported.returncode == 0, imported.stderr
    return environ


def run(env, *args, **kwargs):
    return subprocess.run(  # noqa: S603 — our own interpreter
        [sys.executable, *args],
        cwd=PROJECT_DIR, env=env, capture_output=True, timeout=120, **kwargs,
    )  # fmt: skip


def renewals(env, *args, **kwargs):
    return run(env, "-m", "renewals.cli", *args, **kwargs)


def outcome(result):
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "status", "error"),
    [
        (["show", "SUB-1001", "--date", "2027-01-15"], 0, b""),
        (["show", "SUB-404", "--date", "2027-01-15"], 1, b"CommandError: no subscription"),
        (["show"], 2, b"error: the following arguments are required: subscription_id"),
        (["show", "SUB-1001", "--date", "15/01/2027"], 1, b"CommandError:"),
        (["check"], 0, b""),
    ],
)
def test_a_one_shot_command_exits_with_the_status_and_output_of_a_normal_exit(
    env, args, status, error
):
    shown = renewals(env, *args)
    assert outcome(shown) == outcome(run(env, "-c", DJANGO_EXIT, *args))
    assert shown.returncode == status
    assert error in shown.stderr


def test_show_writes_its_whole_output_to_a_pipe_and_to_a_file(env, tmp_path):
    args = ["show", "SUB-1001", "--date", "2027-01-15"]
    piped = renewals(env, *args)
    assert json.loads(piped.stdout)["id"] == "SUB-1001"
    assert piped.stdout.endswith(b"}\n")
    path = tmp_path / "shown.json"
    with path.open("wb") as out:
        written = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "renewals.cli", *args],
            cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.PIPE, timeout=120,
        )  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert path.read_bytes() == piped.stdout == run(env, "-c", DJANGO_EXIT, *args).stdout


def test_a_one_shot_command_skips_the_teardown_but_runs_the_atexit_handlers(env):
    for args, status in ((["show", "SUB-1001"], 0), (["show", "SUB-404"], 1)):
        result = run(env, "-c", WATCHED.format(before=""), *args)
        assert result.returncode == status
        assert b"atexit ran\n" in result.stderr
        assert b"torn down" not in result.stderr


def test_other_commands_and_running_threads_get_the_interpreters_own_exit(env):
    version = run(env, "-c", WATCHED.format(before=""), "version")
    assert version.returncode == 0
    assert version.stderr.endswith(b"atexit ran\ntorn down\n")
    # A thread still running when the command has finished: the normal exit waits for it.
    thread = (
        "import threading\n"
        "main_ended = threading.main_thread().join\n"
        "threading.Thread(target=lambda: (main_ended(), print('thread done'))).start()"
    )
    checked = run(env, "-c", WATCHED.format(before=thread), "check")
    assert checked.returncode == 0
    assert checked.stdout.endswith(b"thread done\n")
    assert b"torn down" in checked.stderr


def test_commands_run_with_the_garbage_collector_on_and_what_start_up_made_frozen(env):
    # The collector is paused while Django starts (renewals/cli.py `run_command`), not after.
    code = "import gc; print(gc.isenabled(), gc.get_freeze_count() > 10_000)"
    result = renewals(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(b"True True\n")
