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


class InvalidConversationTransition(DomainError):
    code = "invalid_transition"
    default_message = _("The conversation cannot move to that status from its current one.")
