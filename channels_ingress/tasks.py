"""Celery interface of the channels (thin): load by id, call a service, retry with backoff."""

from __future__ import annotations

from celery import shared_task

from channels_ingress.services import delivery as delivery_services
from channels_ingress.services.delivery import MAX_ATTEMPTS


@shared_task(bind=True, acks_late=True, max_retries=MAX_ATTEMPTS)
def delivery_send(self, delivery_id: int) -> str:
    """Deliver one outbox row; a retryable failure comes back after the service's backoff."""
    outcome = delivery_services.delivery_attempt(delivery_id=delivery_id)
    if outcome is None:
        return "nothing to do"
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.delivery.state


@shared_task(acks_late=True)
def outbox_sweep() -> int:
    """Beat runs this every few seconds: messages sent without a delivery get one."""
    return delivery_services.outbox_sweep()
