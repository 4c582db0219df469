"""Background jobs of event deliveries."""

from celery import shared_task

from . import deliveries


@shared_task(name="events.deliver_endpoint")
def deliver_endpoint_job(endpoint_id: int) -> dict:
    return deliveries.deliver_endpoint(endpoint_id)


@shared_task(name="events.deliver_due")
def deliver_due_job() -> dict:
    return deliveries.deliver_due()
