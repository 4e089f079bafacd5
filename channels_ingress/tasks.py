"""Celery interface of the channels (thin): load by id, call a service, retry with backoff."""

from __future__ import annotations

import imaplib

from celery import shared_task

from channels_ingress.models import EmailChannel
from channels_ingress.services import delivery as delivery_services
from channels_ingress.services import email as email_services
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


@shared_task(acks_late=True)
def email_poll_all() -> int:
    """Beat runs this every minute: one poll task per mailbox that has IMAP settings."""
    channel_ids = list(
        EmailChannel.objects.filter(is_active=True).exclude(imap_host="").values_list("pk", flat=True)
    )
    for channel_id in channel_ids:
        email_poll.delay(channel_id)
    return len(channel_ids)


@shared_task(bind=True, acks_late=True, max_retries=3)
def email_poll(self, channel_id: int) -> int:
    """Receive the unseen mail of one mailbox; a mail server that cannot be reached is tried again later."""
    channel = EmailChannel.objects.filter(pk=channel_id, is_active=True).exclude(imap_host="").first()
    if channel is None:
        return 0
    try:
        return email_services.email_mailbox_poll(channel=channel)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise self.retry(exc=exc, countdown=30) from exc
