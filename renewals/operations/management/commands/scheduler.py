"""`renewals scheduler [celery beat options]`: the periodic scheduler (Celery beat)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the periodic scheduler: the daily run and the outbox sweep (needs BROKER_URL)."

    def add_arguments(self, parser):
        parser.add_argument("celery_args", nargs="*", help="extra `celery beat` options")

    def handle(self, *args, **options):
        if not settings.BROKER_URL:
            raise CommandError(
                "BROKER_URL is not set: without a broker `renewals demo` runs the periodic work "
                "in-process; set BROKER_URL to run a scheduler and workers."
            )
        from renewals.celery import app

        schedule_file = settings.DATA_DIR / "celerybeat-schedule"
        app.start(
            ["beat", "--loglevel=INFO", f"--schedule={schedule_file}", *options["celery_args"]]
        )
