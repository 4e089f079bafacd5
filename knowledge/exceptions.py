from django.utils.translation import gettext_lazy as _

from contactcenter.exceptions import DomainError


class KnowledgePermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    default_message = _("Your role may not do this to the article.")


class InvalidTransition(DomainError):
    code = "invalid_transition"
    default_message = _("The article is not in a state that allows this.")


class VersionExists(DomainError):
    code = "version_exists"
    default_message = _("An unpublished version of this article already exists.")


class TranslationExists(DomainError):
    code = "translation_exists"
    default_message = _("The article already has a translation in this language.")


class DraftAlreadyReviewed(DomainError):
    code = "draft_reviewed"
    default_message = _("This draft has already been accepted or dismissed.")
