"""The Celery application: a real broker when BROKER_URL is set, in-process (eager) otherwise."""

import os

from celery import Celery, signals
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")

app = Celery("renewals")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(
    ["renewals.notifications", "renewals.lifecycle", "renewals.payments", "renewals.events"],
    related_name="jobs",
)

# The periodic work (docs/daily-run.md). The daily run is repeated every hour: it is idempotent,
# so the repeats only pick up what fell due since (and survive a scheduler that was down).
app.conf.beat_schedule = {
    "daily-run": {
        "task": "lifecycle.daily_run",
        "schedule": crontab(minute=os.environ.get("DAILY_RUN_MINUTE", "5")),
    },
    "deliver-due-emails": {"task": "notifications.deliver_due", "schedule": 60.0},
    "deliver-due-events": {"task": "events.deliver_due", "schedule": 10.0},
}


# Every log line of a job carries its task id as request id (renewals/core/logs.py).
_log_tokens: dict = {}


@signals.task_prerun.connect
def _bind_task_id(task_id=None, task=None, **kwargs):
    from renewals.core import logs

    _log_tokens[task_id] = logs.enter({"request_id": task_id, "task": task.name if task else ""})


@signals.task_postrun.connect
def _unbind_task_id(task_id=None, **kwargs):
    from renewals.core import logs

    token = _log_tokens.pop(task_id, None)
    if token is not None:
        logs.leave(token)
