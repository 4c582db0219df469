"""The Celery application: a real broker when BROKER_URL is set, in-process (eager) otherwise."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")

app = Celery("renewals")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(
    ["renewals.notifications", "renewals.lifecycle", "renewals.payments"], related_name="jobs"
)

# The periodic work (docs/daily-run.md). The daily run is repeated every hour: it is idempotent,
# so the repeats only pick up what fell due since (and survive a scheduler that was down).
app.conf.beat_schedule = {
    "daily-run": {
        "task": "lifecycle.daily_run",
        "schedule": crontab(minute=os.environ.get("DAILY_RUN_MINUTE", "5")),
    },
    "deliver-due-emails": {"task": "notifications.deliver_due", "schedule": 60.0},
}
