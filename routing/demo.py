"""Demo routing for Northwind Electronics: work streams per channel, queues, skills, agent profiles, today's shifts.

Idempotent: objects are looked up by name and updated, never duplicated.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.choices import ChannelKind
from routing.choices import (
    AssignmentMethod,
    BasePresence,
    DistributionMode,
    OverflowAction,
    OverflowCondition,
    OverflowStage,
    QueueKind,
    SkillMatch,
    WrapUpMode,
)
from routing.models import (
    AgentProfile,
    AgentShift,
    AgentSkill,
    ClassificationRule,
    ClassificationRuleset,
    OperatingHours,
    OverflowRule,
    Queue,
    RouteRule,
    Skill,
    WorkStream,
)
from routing.services.config import queue_save
from routing.services.presence import presence_builtin

QUEUES = [
    # name, kind, priority, method
    ("General Support", QueueKind.MESSAGING, 10, AssignmentMethod.HIGHEST_CAPACITY),
    ("Orders & Returns", QueueKind.MESSAGING, 10, AssignmentMethod.ROUND_ROBIN),
    ("Technical Support", QueueKind.MESSAGING, 10, AssignmentMethod.HIGHEST_CAPACITY),
    ("VIP", QueueKind.MESSAGING, 1, AssignmentMethod.ROUND_ROBIN),
    ("Email", QueueKind.MESSAGING, 20, AssignmentMethod.HIGHEST_CAPACITY),
    ("Voice", QueueKind.VOICE, 5, AssignmentMethod.LEAST_ACTIVE),
]
SKILLS = [("English", "language"), ("Spanish", "language"), ("Laptops", "product"), ("Phones", "product"),
          ("TVs & Audio", "product"), ("Billing", "process"), ("Returns", "process")]
AGENTS = {
    # username: (capacity, queues, {skill: rating})
    "agent1": (3, ["General Support", "Orders & Returns", "VIP", "Voice"],
               {"English": 9, "Returns": 8, "Billing": 6}),
    "agent2": (3, ["General Support", "Technical Support", "Email", "Voice"],
               {"English": 8, "Laptops": 9, "Phones": 7}),
    "agent3": (4, ["General Support", "Technical Support", "Orders & Returns", "Email"],
               {"English": 7, "Spanish": 9, "TVs & Audio": 8, "Returns": 5}),
}
SHIFTS = {
    # username: [(start, end, activity, assignable)] today, in the support hours' time zone
    "agent1": [("08:00", "12:00", "Work", True), ("12:00", "13:00", "Lunch", False), ("13:00", "17:00", "Work", True)],
    "agent2": [("10:00", "14:00", "Work", True), ("14:00", "15:00", "Training", False),
               ("15:00", "19:00", "Work", True)],
    "agent3": [("12:00", "20:00", "Work", True)],
}
WEEKDAYS = {day: [["08:00", "20:00"]] for day in ["mon", "tue", "wed", "thu", "fri"]} | {"sat": [["10:00", "16:00"]]}


def seed(stdout) -> None:
    hours, _ = OperatingHours.objects.update_or_create(
        name="Northwind support hours", defaults={"timezone": "America/New_York", "weekly": WEEKDAYS}
    )
    queues = {}
    for name, kind, priority, method in QUEUES:
        queues[name], _ = Queue.objects.update_or_create(
            name=name, defaults={"kind": kind, "priority": priority, "assignment_method": method,
                                 "service_level_seconds": 60 if kind == QueueKind.MESSAGING else 20},
        )
    voice = queues["Voice"]
    voice.operating_hours = hours
    queue_save(queue=voice)
    OverflowRule.objects.update_or_create(
        queue=voice, stage=OverflowStage.PRE_QUEUE, condition=OverflowCondition.OUT_OF_HOURS,
        defaults={"action": OverflowAction.VOICEMAIL,
                  "message": "Our phone lines are open 8am–8pm ET. Please leave a message."},
    )
    OverflowRule.objects.update_or_create(
        queue=queues["General Support"], stage=OverflowStage.IN_QUEUE, condition=OverflowCondition.WAIT_EXCEEDS,
        defaults={"threshold": 600, "action": OverflowAction.TRANSFER_QUEUE, "target_queue": queues["Technical Support"]},
    )
    skills = {}
    for name, kind in SKILLS:
        skills[name], _ = Skill.objects.update_or_create(name=name, defaults={"skill_type": kind, "rating_max": 10})

    streams = {}
    for name, channel, kind, fallback, extra in [
        ("Web chat", ChannelKind.WEBCHAT, QueueKind.MESSAGING, "General Support", {}),
        ("SMS", ChannelKind.SMS, QueueKind.MESSAGING, "General Support", {"wrap_up_mode": WrapUpMode.NEVER}),
        ("Email", ChannelKind.EMAIL, QueueKind.MESSAGING, "Email", {"capacity_units": 1, "wrap_up_mode": WrapUpMode.NEVER}),
        ("Custom API", ChannelKind.CUSTOM, QueueKind.MESSAGING, "General Support", {}),
        ("Voice", ChannelKind.VOICE, QueueKind.VOICE, "Voice",
         {"capacity_units": 3, "wrap_up_mode": WrapUpMode.CUSTOM, "wrap_up_seconds": 60, "keep_same_agent": False}),
    ]:
        stream = WorkStream.objects.filter(name=name).first()
        if stream is None:
            stream = WorkStream(name=name, distribution_mode=DistributionMode.PUSH)
        stream.channel_kind, stream.kind, stream.fallback_queue = channel, kind, queues[fallback]
        stream.skill_match = SkillMatch.CLOSEST
        for field, value in extra.items():
            setattr(stream, field, value)
        stream.save()
        streams[name] = stream

    chat = streams["Web chat"]
    for stream in (streams["Web chat"], streams["SMS"], streams["Email"]):
        intent, _ = ClassificationRuleset.objects.update_or_create(
            work_stream=stream, name="Intent", defaults={"order": 1}
        )
        for order, (rule_name, words, intent_value, skill) in enumerate([
            ("Returns and refunds", ["return", "refund", "exchange", "rma"], "returns", "Returns"),
            ("Orders and delivery", ["order", "delivery", "shipping", "tracking", "package"], "orders", "Returns"),
            ("Technical problem", ["broken", "not working", "won't turn on", "error", "reset", "update"],
             "technical", "Laptops"),
            ("Billing", ["invoice", "charge", "payment", "billing"], "billing", "Billing"),
        ], start=1):
            ClassificationRule.objects.update_or_create(
                ruleset=intent, name=rule_name,
                defaults={"order": order, "outputs": {"intent": intent_value},
                          "conditions": [{"field": "text", "op": "contains_any", "value": words}],
                          "skills": [{"skill": skills[skill].pk, "rating": 5}]},
            )
        tier, _ = ClassificationRuleset.objects.update_or_create(work_stream=stream, name="Customer tier",
                                                                  defaults={"order": 2})
        ClassificationRule.objects.update_or_create(
            ruleset=tier, name="VIP customers",
            defaults={"order": 1, "outputs": {"priority": 1, "segment": "vip"},
                      "conditions": [{"field": "contact.is_vip", "op": "eq", "value": True}]},
        )
        ClassificationRule.objects.update_or_create(
            ruleset=tier, name="Gold and platinum accounts",
            defaults={"order": 2, "outputs": {"priority": 2, "segment": "vip"},
                      "conditions": [{"field": "contact.account.tier", "op": "in", "value": ["gold", "platinum"]}]},
        )
        ClassificationRule.objects.update_or_create(
            ruleset=tier, name="Spanish speakers",
            defaults={"order": 3, "outputs": {},
                      "conditions": [{"field": "contact.language", "op": "eq", "value": "es"}],
                      "skills": [{"skill": skills["Spanish"].pk, "rating": 6}]},
        )
        for order, (rule_name, field, value, queue) in enumerate([
            ("VIP first", "output.segment", "vip", "VIP"),
            ("Orders & returns", "output.intent", ["returns", "orders", "billing"], "Orders & Returns"),
            ("Technical", "output.intent", "technical", "Technical Support"),
        ], start=1):
            op = "in" if isinstance(value, list) else "eq"
            target = queues[queue] if stream != streams["Email"] or queue == "VIP" else queues["Email"]
            RouteRule.objects.update_or_create(
                work_stream=stream, name=rule_name,
                defaults={"order": order, "queue": target, "split": [],
                          "conditions": [{"field": field, "op": op, "value": value}]},
            )

    User = get_user_model()
    offline = presence_builtin(BasePresence.OFFLINE)
    for username, (capacity, queue_names, ratings) in AGENTS.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            stdout.write(f"routing: user {username} missing, skipped")
            continue
        profile = AgentProfile.objects.filter(user=user).first()
        if profile is None:
            AgentProfile.objects.create(user=user, capacity_units=capacity, presence=offline)
        for name in queue_names:
            queues[name].members.add(user)
        for skill_name, rating in ratings.items():
            AgentSkill.objects.update_or_create(agent=user, skill=skills[skill_name], defaults={"rating": rating})
        _shifts_seed(user, SHIFTS.get(username, []), ZoneInfo(hours.timezone))
    stdout.write(
        f"routing: {len(streams)} work streams, {len(queues)} queues, {len(skills)} skills, "
        f"routing for {chat.name} and {len(streams) - 1} other channels"
    )


def _shifts_seed(user, bookings: list[tuple[str, str, str, bool]], zone: ZoneInfo) -> None:
    """Today's bookings of ``user`` (looked up by start time, so seeding twice changes nothing)."""
    today = timezone.now().astimezone(zone).date()

    def at(clock: str) -> datetime:
        return datetime.combine(today, time.fromisoformat(clock), tzinfo=zone)

    for start, end, activity, assignable in bookings:
        AgentShift.objects.update_or_create(
            agent=user, starts_at=at(start),
            defaults={"ends_at": at(end), "activity": activity, "assignable": assignable},
        )
