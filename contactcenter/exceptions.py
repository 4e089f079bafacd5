from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused the operation. The API answers ``status`` with ``code``."""

    code = "conflict"
    status = 409
    default_message = _("The operation conflicts with the current state.")

    def __init__(self, message: str | None = None):
        self.message = str(message or self.default_message)
        super().__init__(self.message)
