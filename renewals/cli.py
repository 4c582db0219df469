"""The `renewals` console command: a thin wrapper over Django's manage.py."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["renewals", *sys.argv[1:]])


if __name__ == "__main__":
    main()
