from django.utils.translation import gettext_lazy as _

from contactcenter.exceptions import DomainError


class NoWorkStream(DomainError):
    code = "no_work_stream"
    status = 422
    default_message = _("No work stream handles this channel.")


class NoOpenWorkItem(DomainError):
    code = "no_open_work_item"
    default_message = _("The conversation has no open work item.")


class OfferNotPending(DomainError):
    code = "offer_not_pending"
    default_message = _("There is no pending offer of this item to this agent.")


class OfferExpired(DomainError):
    code = "offer_expired"
    default_message = _("The offer has expired.")


class RejectNotAllowed(DomainError):
    code = "reject_not_allowed"
    default_message = _("Offers of this work stream cannot be rejected.")


class WorkItemTaken(DomainError):
    code = "work_item_taken"
    default_message = _("The work item is no longer waiting in the queue.")


class NotQueueMember(DomainError):
    code = "not_queue_member"
    status = 403
    default_message = _("The agent is not a member of the item's queue.")


class AgentAtCapacity(DomainError):
    code = "agent_at_capacity"
    default_message = _("The agent has no capacity left for this item.")


class QueueKindMismatch(DomainError):
    code = "queue_kind_mismatch"
    status = 422
    default_message = _("The queue type does not match the work item's type.")


class QueueClosed(DomainError):
    code = "queue_closed"
    default_message = _("The queue is outside its operating hours.")


class PresenceNotSelectable(DomainError):
    code = "presence_not_selectable"
    status = 422
    default_message = _("This presence cannot be chosen by hand.")


class NotPermitted(DomainError):
    code = "not_permitted"
    status = 403
    default_message = _("Only supervisors may do this.")


class InvalidTransfer(DomainError):
    code = "invalid_transfer"
    status = 422
    default_message = _("Transfer to either a queue or an agent.")


class NotHandling(DomainError):
    code = "not_handling"
    default_message = _("The work item is not assigned to an agent.")


class SessionLimitReached(DomainError):
    code = "session_limit"
    default_message = _("The agent already holds the most concurrent sessions allowed.")


class NotHandlingAgent(DomainError):
    code = "not_handling_agent"
    status = 403
    default_message = _("Only the agent handling the conversation may do this.")


class CallNotAvailable(DomainError):
    code = "call_not_available"
    default_message = _("Only an active chat can be escalated to a call.")


class CallInProgress(DomainError):
    code = "call_in_progress"
    default_message = _("A call is already in progress.")


class AgentInCall(DomainError):
    code = "agent_in_call"
    default_message = _("The agent is in a call and takes no other chat or voice work until it ends.")


class NoCallInProgress(DomainError):
    code = "no_call_in_progress"
    default_message = _("The conversation has no call in progress.")


class InvalidCallMode(DomainError):
    code = "invalid_call_mode"
    status = 422
    default_message = _("A call is either voice or video.")
