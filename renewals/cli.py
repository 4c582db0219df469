"""The `renewals` console command: a thin wrapper over Django's manage.py.

With DEBUG=0 it first refuses to start on unsafe settings (renewals/core/deployment.py), except
for the commands that never start the product (`check`, `collectstatic`, `help`, ...).
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")
    from django.core.management import execute_from_command_line

    from renewals.core.deployment import refuse_unsafe_start

    refuse_unsafe_start(sys.argv[1] if len(sys.argv) > 1 else "")
    try:
        execute_from_command_line(["renewals", *sys.argv[1:]])
    finally:
        # Without a broker, emails a command queued are sent by a background thread: let it
        # finish (at most a minute) before the process exits; anything left stays pending.
        from renewals.notifications import background

        background.drain()


if __name__ == "__main__":
    main()
