from django.db import models
from django.utils.translation import gettext_lazy as _


class QueueKind(models.TextChoices):
    MESSAGING = "messaging", _("Messaging")
    VOICE = "voice", _("Voice")
    RECORD = "record", _("Record")


class DistributionMode(models.TextChoices):
    PUSH = "push", _("Push")
    PICK = "pick", _("Pick")


class SkillMatch(models.TextChoices):
    EXACT = "exact", _("Exact match")
    CLOSEST = "closest", _("Closest match")
    NONE = "none", _("No skill matching")


class WrapUpMode(models.TextChoices):
    ALWAYS = "always", _("Block capacity until closed")
    NEVER = "never", _("Release capacity at wrap-up")
    CUSTOM = "custom", _("Block for a set time")


class BasePresence(models.TextChoices):
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    DND = "dnd", _("Do not disturb")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")
    INACTIVE = "inactive", _("Inactive")


class AssignmentMethod(models.TextChoices):
    HIGHEST_CAPACITY = "highest_capacity", _("Highest capacity")
    ROUND_ROBIN = "round_robin", _("Advanced round robin")
    LEAST_ACTIVE = "least_active", _("Least active")
    CUSTOM = "custom", _("Custom rules")


class OrderBy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    REMAINING_CAPACITY = "remaining_capacity", _("Remaining capacity")
    NEAREST_PROFICIENCY = "nearest_proficiency", _("Nearest proficiency")
    MOST_PROFICIENT = "most_proficient", _("Most proficient")
    SKILL_COUNT = "skill_count", _("Skill count")
    LEAST_ACTIVE = "least_active", _("Least active")
    AGENT_FIELD = "agent_field", _("An agent or user field")


class ChannelFamily(models.TextChoices):
    """How the auto-close timers group channels (E.67)."""

    CHAT = "chat", _("Live chat")
    VOICE = "voice", _("Voice")
    ASYNC = "async", _("Asynchronous (SMS, email, custom)")


class PrioritizationOrder(models.TextChoices):
    """How a prioritization bucket sorts its items (B.24)."""

    OLDEST = "oldest", _("Longest waiting first")
    PRIORITY = "priority", _("Priority (smaller number first)")
    CASE_PRIORITY = "case_priority", _("Case priority (high first)")
    SENTIMENT = "sentiment", _("Most negative sentiment first")
    EFFORT = "effort", _("Shortest predicted effort first")


class CapacityReset(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediately")
    END_OF_DAY = "end_of_day", _("End of day")


class WorkItemStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    OFFERED = "offered", _("Offered")
    ASSIGNED = "assigned", _("Assigned")
    COMPLETED = "completed", _("Completed")
    ABANDONED = "abandoned", _("Abandoned")

    @classmethod
    def open(cls) -> frozenset[str]:
        return frozenset({cls.QUEUED, cls.OFFERED, cls.ASSIGNED})


class OfferOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    TIMED_OUT = "timed_out", _("Timed out")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class PreferredAgentsFallback(models.TextChoices):
    """B.33: what happens to a contact's item when none of their preferred agents can take it."""

    ASSIGN = "assign", _("Assign normally")
    WAIT = "wait", _("Wait for a preferred agent")


class OverflowStage(models.TextChoices):
    PRE_QUEUE = "pre_queue", _("Before queueing")
    IN_QUEUE = "in_queue", _("While queued")


class OverflowCondition(models.TextChoices):
    OUT_OF_HOURS = "out_of_hours", _("Out of operating hours")
    ITEM_LIMIT = "item_limit", _("Work-item limit exceeded")
    PREDICTED_WAIT = "predicted_wait", _("Predicted wait above (seconds)")
    WAIT_EXCEEDS = "wait_exceeds", _("Waiting longer than (seconds)")


class OverflowAction(models.TextChoices):
    ASSIGN_ANYWAY = "assign_anyway", _("Assign anyway")
    TRANSFER_QUEUE = "transfer_queue", _("Transfer to queue")
    END = "end", _("End with a message")
    VOICEMAIL = "voicemail", _("Voicemail")
    CALLBACK = "callback", _("Direct callback")


class DiagnosticStage(models.TextChoices):
    CLASSIFICATION = "classification", _("Classification")
    ROUTE_TO_QUEUE = "route_to_queue", _("Route to queue")
    OVERFLOW = "overflow", _("Overflow")
    ASSIGNMENT = "assignment", _("Assignment")
    OFFER = "offer", _("Offer")
    TRANSFER = "transfer", _("Transfer")


class ParticipantRole(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    CONSULT = "consult", _("Consult")
    MONITOR = "monitor", _("Monitor")


class SessionClosure(models.TextChoices):
    """Why a conversation session ended (E.69)."""

    AGENT_REJECT = "agent_reject", _("Agent rejected the offer")
    AGENT_TIMEOUT = "agent_timeout", _("Offer timed out")
    AGENT_TRANSFERRED = "agent_transferred", _("Agent transferred (to an agent or a queue)")
    SUPERVISOR_TRANSFER_TO_AGENT = "supervisor_transfer_to_agent", _("Supervisor transferred to an agent")
    SUPERVISOR_TRANSFER_TO_QUEUE = "supervisor_transfer_to_queue", _("Supervisor transferred to a queue")
    SUPERVISOR_FORCE_ASSIGN = "supervisor_force_assign", _("Supervisor force-assigned")
    RELEASED_TO_QUEUE = "released_to_queue", _("Released to the queue")
    AGENT_ENDED = "agent_ended", _("Agent ended")
    CUSTOMER_ENDED = "customer_ended", _("Customer ended")
    AUTO_CLOSED = "auto_closed", _("Closed automatically (timer)")
    OVERFLOW = "overflow", _("Overflow")
    FORCE_CLOSE = "force_close", _("Force closed")


class CallMode(models.TextChoices):
    """What a chat is escalated to (D.48)."""

    VOICE = "voice", _("Voice call")
    VIDEO = "video", _("Video call")
