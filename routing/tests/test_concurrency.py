"""Several routers at once: no item goes to two agents, no agent goes over capacity, nothing is stuck."""

import threading
import time

import pytest
from django.db import connection

from contactcenter.testing import capture_realtime
from routing.choices import WorkItemStatus
from routing.models import WorkItem
from routing.services import assignment_run
from routing.tests.scenarios import assignable_left, populate, violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROUTERS = 8
AGENTS = 200
ITEMS = 5000
QUEUES = 10
CAPACITY = 20  # 4,000 units for 5,000 items: 1,000 must stay queued


def test_parallel_routers_never_double_assign_or_exceed_capacity(settings):
    settings.ROUTING_MAX_SESSIONS_PER_AGENT = CAPACITY  # capacity, not the session limit (D.54), is what runs out
    population = populate(agents=AGENTS, items=ITEMS, queues=QUEUES, capacity=CAPACITY, prefix="conc")
    errors: list[BaseException] = []
    decided: list[int] = []
    lock = threading.Lock()

    def router():
        try:
            deadline = time.monotonic() + 50
            while time.monotonic() < deadline:
                decisions = assignment_run(limit_per_queue=50)
                with lock:
                    decided.extend(d.workitem_id for d in decisions)
                if not decisions:
                    if not assignable_left(population["queues"]):
                        return
                    time.sleep(0.02)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)
        finally:
            connection.close()

    # Events are recorded, not sent: this test is about the database invariants, and eight
    # threads sending through one process-wide channel layer is not how workers run.
    with capture_realtime() as published:
        threads = [threading.Thread(target=router) for _ in range(ROUTERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert len(decided) == len(set(decided)) == AGENTS * CAPACITY
    assert len([e for e, _g in published.sent if e["type"] == "workitem.offered"]) == AGENTS * CAPACITY
    assert violations(population["queues"]) == {"double_offers": 0, "over_capacity": 0, "capacity_mismatch": 0}
    assert WorkItem.objects.filter(status=WorkItemStatus.OFFERED).count() == AGENTS * CAPACITY
    assert WorkItem.objects.filter(status=WorkItemStatus.QUEUED).count() == ITEMS - AGENTS * CAPACITY
    assert not assignable_left(population["queues"])
