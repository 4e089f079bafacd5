from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from contactcenter.choices import Role
from crm import services as crm_services
from crm.choices import ChannelKind
from routing.choices import BasePresence, QueueKind
from routing.models import AgentProfile, AgentSkill, Presence, Queue, Skill, WorkStream  # noqa: F401
from routing.services.config import queue_save
from routing.services.presence import presence_builtin

_seq = itertools.count(1)


def queue(name: str | None = None, *, kind=QueueKind.MESSAGING, members=(), **fields) -> Queue:
    q = queue_save(queue=Queue(name=name or f"Queue {next(_seq)}", kind=kind, **fields))
    for member in members:
        q.members.add(member)
    return q


def stream(*, channel=ChannelKind.WEBCHAT, fallback: Queue | None = None, kind=QueueKind.MESSAGING, **fields) -> WorkStream:
    fallback = fallback or queue(kind=kind)
    return WorkStream.objects.create(
        name=f"Stream {next(_seq)}", channel_kind=channel, kind=kind, fallback_queue=fallback, **fields
    )


def agent(username: str | None = None, *, capacity: int = 3, presence: str = BasePresence.AVAILABLE, **profile):
    user = get_user_model().objects.create_user(username=username or f"agent{next(_seq)}", password="pw")
    user.groups.add(Group.objects.get_or_create(name=Role.AGENT)[0])
    AgentProfile.objects.create(
        user=user, capacity_units=capacity,
        presence=presence_builtin(presence), **profile,
    )
    return user


def profile_of(user) -> AgentProfile:
    return AgentProfile.objects.select_related("presence").get(user=user)


def skill(name: str | None = None, rating_max: int = 10) -> Skill:
    return Skill.objects.create(name=name or f"Skill {next(_seq)}", rating_max=rating_max)


def give_skill(user, skill_obj: Skill, rating: int) -> AgentSkill:
    return AgentSkill.objects.create(agent=user, skill=skill_obj, rating=rating)


def inbound(body: str = "Hello, I need help", *, channel=ChannelKind.WEBCHAT, address: str | None = None, **extra):
    """A customer message, stored through crm; returns the conversation."""
    address = address or (f"visitor-{next(_seq)}" if channel == ChannelKind.WEBCHAT else f"+1202418{next(_seq):04d}")
    return crm_services.message_ingest(channel_kind=channel, address=address, body=body, **extra).conversation
