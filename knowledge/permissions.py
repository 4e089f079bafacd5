"""Who may do what to articles (REFERENCE J.126–127).

Every staff member (agents up) may write drafts and submit them; approving,
rejecting, publishing, expiring and archiving belong to knowledge managers,
supervisors and administrators.
"""

from __future__ import annotations

from contactcenter.choices import Role
from contactcenter.permissions import is_staff_member, user_roles

#: The group created by ``knowledge/migrations``; its value is the group's name.
KNOWLEDGE_MANAGERS = "Knowledge managers"
MANAGER_ROLES = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR, KNOWLEDGE_MANAGERS})


def can_author(user) -> bool:
    return is_staff_member(user)


def can_manage(user) -> bool:
    return bool(user and user.is_authenticated) and (user.is_superuser or bool(user_roles(user) & MANAGER_ROLES))


def can_edit(user, article) -> bool:
    """Drafts are edited by their author or by a manager."""
    return can_manage(user) or (can_author(user) and article.author_id == user.pk)
