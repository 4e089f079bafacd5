from django.utils.translation import gettext_lazy as _

from contactcenter.exceptions import DomainError


class ConversationClosed(DomainError):
    code = "conversation_closed"
    default_message = _("The conversation is closed.")


class CaseAlreadyLinked(DomainError):
    code = "case_already_linked"
    default_message = _("The conversation already has a case.")


class CaseClosed(DomainError):
    code = "case_closed"
    default_message = _("The case is already resolved or cancelled.")


class DispositionRequired(DomainError):
    code = "disposition_required"
    status = 422
    default_message = _("Choose at least one disposition code to close this conversation.")


class TooManyDispositions(DomainError):
    code = "too_many_dispositions"
    status = 422
    default_message = _("Too many disposition codes for one conversation.")


class ConversationNotLive(DomainError):
    code = "conversation_not_live"
    default_message = _("Only an active or waiting conversation can be ended.")


class CaseMergeInvalid(DomainError):
    code = "case_merge_invalid"
    status = 422
    default_message = _("A case can only be merged into another open case.")


class CaseNotOnHold(DomainError):
    code = "case_not_on_hold"
    default_message = _("The case is not on hold.")


class InvalidConversationTransition(DomainError):
    code = "invalid_transition"
    default_message = _("The conversation cannot move to that status from its current one.")
