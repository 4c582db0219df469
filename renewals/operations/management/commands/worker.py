"""`renewals worker [celery worker options]`: a background worker on BROKER_URL."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run a Celery worker for the background jobs (needs BROKER_URL)."

    def add_arguments(self, parser):
        parser.add_argument("celery_args", nargs="*", help="extra `celery worker` options")

    def handle(self, *args, **options):
        if not settings.BROKER_URL:
            raise CommandError(
                "BROKER_URL is not set: without a broker every job runs in-process, "
                "so there is nothing for a worker to do (e.g. BROKER_URL=redis://127.0.0.1:6379/0)."
            )
        from renewals.celery import app

        app.worker_main(["worker", "--loglevel=INFO", *options["celery_args"]])
