"""Routing business operations (``<entity>_<verb>``); views, API, consumers and tasks call these.

Public surface, for other apps and interfaces:

* ``conversation_enqueue(*, conversation, context=None) -> WorkItem``
* ``presence_set(*, agent, presence, system=False) -> AgentProfile``
* ``presence_sign_in(*, agent)`` / ``presence_sign_out(*, agent)`` (D.50: default presence at sign-in; Offline at sign-out)
* ``offer_accept(*, workitem, agent)`` / ``offer_decline(*, workitem, agent, reason="")``
* ``workitem_pick(*, workitem, agent)`` / ``workitem_force_assign(*, workitem, agent, actor)``
* ``workitem_release(*, workitem, actor, reason="")``
* ``workitem_complete(*, conversation, actor=None, reason="", closure=None)`` (closure: the session's, E.69)
* ``workitem_reroute(*, workitem, actor)`` (a supervisor runs classification and route-to-queue again, A.6)
* ``conversation_transfer(*, conversation, actor, to_queue=None, to_agent=None, note="")``
* ``conversation_consult(*, conversation, actor, consultant)`` / ``consult_leave(*, participant)``
* ``conversation_call_start(*, conversation, actor, mode)`` / ``conversation_call_end(*, conversation, actor)`` (D.48);
  ``call_possible(item)`` says whether the call control applies
* ``conversation_end(*, conversation, actor)`` (wrap-up) / ``conversation_park(*, conversation, actor)`` (waiting)
* ``conversation_wrap_up(*, conversation, actor, disposition_codes, notes="")`` (close, capacity freed)
* ``assignment_run(*, queue_ids=None, limit_per_queue=None) -> list[Decision]`` (default N: B.16)
* ``queue_member_add(*, queue, agent)`` / ``queue_member_remove(*, queue, agent)``
* ``queue_save(*, queue)`` (with the E.58 hours pair) / ``queue_hours_pair_sync(*, queue)`` / ``operating_hours_delete(*, hours)``
* ``routing_dry_run(*, channel_kind, text, context=None, contact=None) -> dict`` (writes nothing)
* ``routing_sweep(*, now=None) -> SweepReport``; ``auto_close_timers()`` (E.67); ``effort_model_train()``
"""

from routing.services.calls import call_possible, conversation_call_end, conversation_call_start
from routing.services.classification import classify, conversation_facts, route_to_queue, work_stream_for
from routing.services.config import (
    operating_hours_delete,
    queue_hours_pair_sync,
    queue_member_add,
    queue_member_remove,
    queue_save,
)
from routing.services.dryrun import routing_dry_run
from routing.services.effort import effort_model_train, effort_predict
from routing.services.engine import Decision, assignment_run, queue_stats_publish, workitem_explain
from routing.services.presence import (
    agent_capacity_set,
    agent_profile_ensure,
    capacity_end_of_day_reset,
    presence_heartbeat,
    presence_set,
    presence_sign_in,
    presence_sign_out,
)
from routing.services.sweep import SweepReport, auto_close_timers, routing_sweep
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
    workitem_reroute,
)

__all__ = [
    "Decision", "SweepReport", "agent_capacity_set", "agent_profile_ensure", "assignment_run", "auto_close_timers",
    "call_possible", "capacity_end_of_day_reset", "classify", "consult_leave", "consult_reply",
    "conversation_call_end", "conversation_call_start", "conversation_consult", "conversation_end",
    "conversation_enqueue", "conversation_facts", "conversation_park", "conversation_transfer",
    "conversation_wrap_up", "effort_model_train", "effort_predict", "offer_accept", "offer_decline", "offer_timeout",
    "operating_hours_delete", "presence_heartbeat", "presence_set", "presence_sign_in", "presence_sign_out",
    "queue_hours_pair_sync", "queue_member_add", "queue_member_remove", "queue_save", "queue_stats_publish", "route_to_queue",
    "routing_dry_run", "routing_sweep", "work_stream_for", "workitem_complete", "workitem_explain",
    "workitem_force_assign", "workitem_pick", "workitem_release", "workitem_reroute",
]
