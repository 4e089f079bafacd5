"""Celery interface of routing (thin): each task calls a service and is idempotent."""

from __future__ import annotations

from celery import shared_task

from routing import services


@shared_task(bind=True, acks_late=True, ignore_result=True)
def routing_sweep(self) -> dict:
    """Every few seconds: offer timeouts, wrap-up releases, overflow and auto-close timers, assignment."""
    report = services.routing_sweep()
    return report.__dict__


@shared_task(bind=True, acks_late=True, ignore_result=True)
def assignment_run(self, queue_ids: list[int] | None = None) -> int:
    return len(services.assignment_run(queue_ids=queue_ids))


@shared_task(bind=True, acks_late=True, ignore_result=True)
def effort_model_train(self) -> int | None:
    model = services.effort_model_train()
    return model.pk if model else None


@shared_task(bind=True, acks_late=True, ignore_result=True)
def capacity_end_of_day_reset(self) -> int:
    return services.capacity_end_of_day_reset()
