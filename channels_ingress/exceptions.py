from django.utils.translation import gettext_lazy as _

from contactcenter.exceptions import DomainError


class ChannelUnavailable(DomainError):
    code = "channel_unavailable"
    status = 404
    default_message = _("This channel does not exist or is switched off.")


class ChatAuthenticationFailed(DomainError):
    code = "authentication_failed"
    status = 401
    default_message = _("The sign-in token is not valid.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = _("You are sending messages too quickly. Please wait a moment.")


class MessageTooLong(DomainError):
    code = "message_too_long"
    status = 413
    default_message = _("The message is too long.")


class AttachmentRejected(DomainError):
    code = "attachment_rejected"
    status = 422
    default_message = _("The file cannot be attached.")


class InvalidInput(DomainError):
    code = "invalid"
    status = 400
    default_message = _("The input is not valid.")


class NoLiveConversation(DomainError):
    code = "no_conversation"
    status = 409
    default_message = _("There is no chat to end.")


class DeliveryFailed(Exception):
    """A provider refused or could not be reached; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 409
    default_message = _("This Idempotency-Key was already used for a different message.")
