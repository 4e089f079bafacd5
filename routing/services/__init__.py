"""Routing business operations (``<entity>_<verb>``); views, API, consumers and tasks call these.

Public surface, for other apps and interfaces:

* ``conversation_enqueue(*, conversation, context=None) -> WorkItem``
* ``presence_set(*, agent, presence, system=False) -> AgentProfile``
* ``offer_accept(*, workitem, agent)`` / ``offer_decline(*, workitem, agent, reason="")``
* ``workitem_pick(*, workitem, agent)`` / ``workitem_force_assign(*, workitem, agent, actor)``
* ``workitem_release(*, workitem, actor, reason="")``
* ``workitem_complete(*, conversation, actor=None, reason="", closure=None)`` (closure: the session's, E.69)
* ``conversation_transfer(*, conversation, actor, to_queue=None, to_agent=None, note="")``
* ``conversation_consult(*, conversation, actor, consultant)`` / ``consult_leave(*, participant)``
* ``conversation_call_start(*, conversation, actor, mode)`` / ``conversation_call_end(*, conversation, actor)`` (D.48)
* ``conversation_end(*, conversation, actor)`` (wrap-up) / ``conversation_park(*, conversation, actor)`` (waiting)
* ``conversation_wrap_up(*, conversation, actor, disposition_codes, notes="")`` (close, capacity freed)
* ``assignment_run(*, queue_ids=None, limit_per_queue=100) -> list[Decision]``
* ``queue_member_add(*, queue, agent)`` / ``queue_member_remove(*, queue, agent)``
* ``routing_dry_run(*, channel_kind, text, context=None, contact=None) -> dict`` (writes nothing)
* ``routing_sweep(*, now=None) -> SweepReport``; ``effort_model_train()``
"""

from routing.services.calls import conversation_call_end, conversation_call_start
from routing.services.classification import classify, conversation_facts, route_to_queue, work_stream_for
from routing.services.config import queue_member_add, queue_member_remove
from routing.services.dryrun import routing_dry_run
from routing.services.effort import effort_model_train, effort_predict
from routing.services.engine import Decision, assignment_run, queue_stats_publish, workitem_explain
from routing.services.presence import (
    agent_capacity_set,
    agent_profile_ensure,
    capacity_end_of_day_reset,
    presence_heartbeat,
    presence_set,
)
from routing.services.sweep import SweepReport, routing_sweep
from routing.services.workitems import (
    consult_leave,
    consult_reply,
    conversation_consult,
    conversation_end,
    conversation_enqueue,
    conversation_park,
    conversation_transfer,
    conversation_wrap_up,
    offer_accept,
    offer_decline,
    offer_timeout,
    workitem_complete,
    workitem_force_assign,
    workitem_pick,
    workitem_release,
)

__all__ = [
    "Decision", "SweepReport", "agent_capacity_set", "agent_profile_ensure", "assignment_run",
    "capacity_end_of_day_reset", "classify", "consult_leave", "consult_reply", "conversation_call_end", "conversation_call_start",
    "conversation_consult", "conversation_end", "conversation_enqueue",
    "conversation_facts", "conversation_park", "conversation_transfer", "conversation_wrap_up", "effort_model_train", "effort_predict",
    "offer_accept", "queue_member_add", "queue_member_remove", "offer_decline", "offer_timeout", "presence_heartbeat", "presence_set", "queue_stats_publish",
    "route_to_queue", "routing_dry_run", "routing_sweep", "work_stream_for", "workitem_complete", "workitem_explain",
    "workitem_force_assign", "workitem_pick", "workitem_release",
]
