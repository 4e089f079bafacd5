"""Agent presence and capacity bookkeeping (D.42–D.53)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from contactcenter.realtime import publish
from routing import events
from routing.choices import BasePresence, CapacityReset, ParticipantRole, WorkItemStatus
from routing.exceptions import PresenceNotSelectable, SessionLimitReached
from routing.models import (
    ESCALATION_PROFILE_NAME,
    AgentCapacity,
    AgentProfile,
    CapacityProfile,
    Participant,
    Presence,
    WorkItem,
)

#: Base presences that follow the load automatically (D.51).
AUTO_PRESENCES = {BasePresence.AVAILABLE, BasePresence.BUSY, BasePresence.DND}
#: Base presences that still receive affinity offers (B.32).
REACHABLE_PRESENCES = [BasePresence.AVAILABLE, BasePresence.BUSY, BasePresence.DND, BasePresence.AWAY]


#: The built-in presences (also created by migration 0003), by base.
BUILTIN_NAMES = {
    BasePresence.AVAILABLE: "Available", BasePresence.BUSY: "Busy", BasePresence.DND: "Do not disturb",
    BasePresence.AWAY: "Away", BasePresence.OFFLINE: "Offline", BasePresence.INACTIVE: "Inactive",
}


def presence_builtin(base: str) -> Presence:
    """The built-in presence of a base status (re-created if a database flush removed it)."""
    found = Presence.objects.filter(base=base, is_builtin=True).order_by("id").first()
    if found is None:
        found, _created = Presence.objects.get_or_create(
            name=BUILTIN_NAMES[base],
            defaults={"base": base, "is_builtin": True, "selectable": base != BasePresence.INACTIVE},
        )
    return found


def escalation_profile() -> CapacityProfile:
    """The built-in Escalation capacity profile (migration 0010; re-created if a database flush removed it)."""
    found = CapacityProfile.objects.filter(name=ESCALATION_PROFILE_NAME, is_builtin=True).first()
    if found is None:
        found, _created = CapacityProfile.objects.update_or_create(
            name=ESCALATION_PROFILE_NAME,
            defaults={"default_limit": 1, "reset": CapacityReset.IMMEDIATE, "is_builtin": True},
        )
    return found


def escalation_drop(item: WorkItem) -> None:
    """The call of a parked or released item is over (D.48): it stops carrying the Escalation
    profile, so whoever gets it next is not held as in a call. Call after ``capacity_release``."""
    if item.call_mode:
        item.call_mode = ""
        item.capacity_profiles = [pk for pk in item.capacity_profiles if pk != escalation_profile().pk]


def escalations_held() -> QuerySet[AgentCapacity]:
    """Agents' usages of the Escalation profile that are held now: those agents are in a call (D.48)."""
    return AgentCapacity.objects.filter(profile__name=ESCALATION_PROFILE_NAME, profile__is_builtin=True, used__gt=0)


def consults_open() -> QuerySet[Participant]:
    """Consult participations that still are sessions (D.54): not left, on work an agent still holds."""
    return Participant.objects.filter(
        role=ParticipantRole.CONSULT, left_at__isnull=True, workitem__status=WorkItemStatus.ASSIGNED
    )


def session_room_check(profile: AgentProfile) -> None:
    """Refuse one more session for the agent of a (row-locked) profile at the session limit (D.54).

    Sessions are offered/assigned items (``active_items``) plus open consults. One query.
    Raises SessionLimitReached.
    """
    limit = settings.ROUTING_MAX_SESSIONS_PER_AGENT
    if profile.active_items + consults_open().filter(agent_id=profile.user_id).count() >= limit:
        raise SessionLimitReached(_("%(agent)s already holds %(n)s sessions, the most allowed.")
                                  % {"agent": profile.user, "n": limit})


def agent_profile_ensure(*, agent) -> AgentProfile:
    """The agent's routing profile, created Offline (or at the default presence) on first use."""
    profile = AgentProfile.objects.select_related("presence").filter(user=agent).first()
    if profile is None:
        profile, _created = AgentProfile.objects.get_or_create(
            user=agent, defaults={"presence": presence_builtin(BasePresence.OFFLINE)}
        )
    return profile


def _presence_resolve(presence) -> Presence:
    if isinstance(presence, Presence):
        return presence
    found = Presence.objects.filter(name__iexact=str(presence)).first() or (
        presence_builtin(str(presence)) if str(presence) in BasePresence.values else None
    )
    if found is None:
        raise PresenceNotSelectable()
    return found


def presence_set(*, agent, presence, system: bool = False) -> AgentProfile:
    """Set an agent's presence (a Presence, its name, or a base value such as ``"available"``).

    Choosing Available hands presence back to the load (D.51: it then moves
    to Busy / Do not disturb as capacity fills); any other choice is manual
    and sticks. Inactive can only be set with ``system=True``. Becoming
    reachable runs an assignment cycle for the agent's queues.
    Side effects: AgentProfile presence; after commit ``agent.presence_changed``
    to ``agent.<id>`` and supervisors. Raises PresenceNotSelectable.
    """
    from routing.services.engine import assignment_run

    target = _presence_resolve(presence)
    if not system and not target.selectable:
        raise PresenceNotSelectable()
    with transaction.atomic():
        agent_profile_ensure(agent=agent)
        profile = AgentProfile.objects.select_for_update().select_related("presence").get(user=agent)
        profile.presence = target
        profile.presence_manual = target.base != BasePresence.AVAILABLE
        profile.presence_changed_at = timezone.now()
        if target.base == BasePresence.AVAILABLE:
            profile.presence = _load_presence(profile) or target
        profile.save(update_fields=["presence", "presence_manual", "presence_changed_at"])
        publish(events.agent_presence_changed(profile), groups=events.agent_groups(agent.pk))
    if profile.presence.base in (BasePresence.AVAILABLE, BasePresence.BUSY):
        assignment_run(queue_ids=list(agent.queues.values_list("pk", flat=True)))
    return profile


def presence_sign_in(*, agent) -> AgentProfile | None:
    """D.50: an agent who signs in starts in their default presence, or Available without one.

    Users without a routing profile (not agents) are left alone. Side effects:
    those of ``presence_set``.
    """
    profile = AgentProfile.objects.filter(user=agent).select_related("default_presence").first()
    if profile is None:
        return None
    default = profile.default_presence
    start = default if default is not None and default.selectable else presence_builtin(BasePresence.AVAILABLE)
    return presence_set(agent=agent, presence=start)


def presence_sign_out(*, agent) -> AgentProfile | None:
    """An agent who signs out goes Offline: no offers, not counted as staffed; their pending offers
    and live chats and calls go back to the queue (E.65). Side effects: ``presence_set``,
    ``agent_live_work_release``."""
    from routing.services.workitems import agent_live_work_release

    if not AgentProfile.objects.filter(user=agent).exists():
        return None
    profile = presence_set(agent=agent, presence=presence_builtin(BasePresence.OFFLINE))
    agent_live_work_release(agent=agent, reason="agent signed out")
    return profile


def presence_heartbeat(*, agent) -> None:
    """Record that the agent's client is alive (D.53)."""
    AgentProfile.objects.filter(user=agent).update(heartbeat_at=timezone.now())


def _load_presence(profile: AgentProfile) -> Presence | None:
    if profile.used_units <= 0:
        base = BasePresence.AVAILABLE
    elif profile.used_units >= profile.capacity_units:
        base = BasePresence.DND
    else:
        base = BasePresence.BUSY
    if profile.presence.base == base and profile.presence.is_builtin:
        return None
    return presence_builtin(base)


def presence_follow_load(profile: AgentProfile) -> bool:
    """Move an automatic presence with the load (caller holds the profile's row lock and saves it).

    Returns whether it changed; publishes ``agent.presence_changed`` when it did.
    """
    if profile.presence_manual or profile.presence.base not in AUTO_PRESENCES:
        return False
    target = _load_presence(profile)
    if target is None:
        return False
    profile.presence = target
    profile.presence_changed_at = timezone.now()
    publish(events.agent_presence_changed(profile), groups=events.agent_groups(profile.user_id))
    return True


def capacity_excess(profile: AgentProfile, units: int) -> int:
    """The units that booking ``units`` more would put above capacity and what is already forced."""
    return max(0, profile.used_units + units - profile.capacity_units - profile.forced_units)


def capacity_take(profile: AgentProfile, item: WorkItem, *, allow_exceed: bool, now=None) -> None:
    """Book ``item``'s units on a locked profile, in memory (capacity profiles: ``capacity_profiles_take``).

    With ``allow_exceed`` (pick, force-assign, affinity) the excess is
    recorded as forced units, which the database check allows; otherwise the
    caller has checked there is room, and the check refuses any mistake.
    """
    excess = capacity_excess(profile, item.capacity_units) if allow_exceed else 0
    profile.used_units += item.capacity_units
    profile.forced_units += excess
    profile.active_items += 1
    profile.last_assigned_at = now or timezone.now()
    item.forced_units = excess
    item.capacity_held = True


def capacity_profiles_take(profile: AgentProfile, item: WorkItem, *, allow_exceed: bool) -> None:
    for profile_id in item.capacity_profiles:
        usage, _created = AgentCapacity.objects.select_for_update().get_or_create(agent=profile, profile_id=profile_id)
        usage.used += 1
        limit = usage.limit if usage.limit is not None else usage.profile.default_limit
        if usage.used > limit + usage.forced:
            usage.forced += 1 if allow_exceed else 0
        usage.save(update_fields=["used", "forced"])


def capacity_release(*, item: WorkItem, now=None) -> AgentProfile | None:
    """Give back what ``item`` holds on its agent (row-locked here); presence follows the load.

    Side effects: AgentProfile/AgentCapacity rows and the item's capacity fields
    (the caller saves the item); ``agent.presence_changed`` when it moves.
    """
    if not item.capacity_held or item.agent_id is None:
        return None
    profile = AgentProfile.objects.select_for_update().select_related("presence").get(user_id=item.agent_id)
    profile.used_units = max(0, profile.used_units - item.capacity_units)
    # Forced units measure how far above capacity the agent is, nothing more.
    profile.forced_units = max(0, profile.used_units - profile.capacity_units)
    profile.active_items = max(0, profile.active_items - 1)
    profile.last_released_at = now or timezone.now()
    for usage in AgentCapacity.objects.select_for_update().filter(agent=profile, profile_id__in=item.capacity_profiles):
        if usage.profile.reset == "end_of_day":
            continue
        usage.used = max(0, usage.used - 1)
        usage.forced = max(0, usage.forced - 1) if usage.forced else 0
        usage.save(update_fields=["used", "forced"])
    presence_follow_load(profile)
    profile.save(update_fields=[
        "used_units", "forced_units", "active_items", "last_released_at", "presence", "presence_changed_at",
    ])
    item.capacity_held = False
    item.forced_units = 0
    return profile


def agent_capacity_set(*, agent, capacity_units: int) -> AgentProfile:
    """Change an agent's capacity. Lowering it never unassigns work (D.44): load above
    the new capacity is recorded as forced until it is released. No assignment cycle
    runs for a manual edit (B.15)."""
    with transaction.atomic():
        agent_profile_ensure(agent=agent)
        profile = AgentProfile.objects.select_for_update().select_related("presence").get(user=agent)
        profile.capacity_units = capacity_units
        profile.forced_units = max(profile.forced_units, profile.used_units - capacity_units, 0)
        profile.save(update_fields=["capacity_units", "forced_units"])
    return profile


def capacity_end_of_day_reset() -> int:
    """Reset end-of-day capacity profiles (run nightly). Returns rows reset."""
    return AgentCapacity.objects.filter(profile__reset="end_of_day").exclude(used=0).update(used=0, forced=0)
