"""The Celery application: a real broker when BROKER_URL is set, in-process (eager) otherwise."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")

app = Celery("renewals")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(
    ["renewals.notifications", "renewals.lifecycle", "renewals.payments"], related_name="jobs"
)
