"""`renewals import FILE.json`: validate the whole file, then import it in one transaction."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from renewals.core import clock, collector
from renewals.subscriptions.importing import import_bytes
from renewals.subscriptions.importing.validate import ImportFileError, check_size, max_bytes


class Command(BaseCommand):
    help = "Import customers, users, catalogue and subscriptions from a renewals/v1 JSON file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the JSON file ('-' reads standard input)")
        parser.add_argument("--dry-run", action="store_true", help="validate only; write nothing")

    def handle(self, *args, file, dry_run, **options):
        # The bytes are handed over, not kept here: the import lets them go once decoded (#15).
        # An import builds hundreds of thousands of objects that live until it ends (the
        # parsed file, the plan, the rows): the cycle collector scanned them again and again,
        # 15% of the command's CPU for 20,000 subscriptions (#15).
        with collector.paused():
            result = import_bytes(
                self.read(file),
                today=clock.today(),
                dry_run=dry_run,
                actor_label=f"import:{Path(file).name}",
            )
        if result.errors:
            for line in result.errors:
                self.stderr.write(line)
            count = len(result.errors)
            raise CommandError(
                f"{count} error{'s' if count != 1 else ''} in {file}; nothing was imported."
            )
        if dry_run:
            self.stdout.write(f"{file} is valid; nothing was written (--dry-run).")
            return
        for line in result.summary.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Imported {file}."))

    def read(self, file: str) -> bytes:
        """Read at most the import limit (IMPORT_MAX_MB) plus one byte: never a huge file whole."""
        limit = max_bytes()
        if file == "-":
            import sys

            return sys.stdin.buffer.read(limit + 1)
        path = Path(file)
        try:
            if path.is_file():
                try:
                    check_size(path.stat().st_size)
                except ImportFileError as exc:
                    raise CommandError(f"$: {exc}; nothing was imported.") from None
            with path.open("rb") as handle:
                return handle.read(limit + 1)
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except IsADirectoryError:
            raise CommandError(f"{file} is a directory, not a JSON file") from None
        except OSError as exc:
            raise CommandError(f"{file} cannot be read: {exc.strerror}") from None
