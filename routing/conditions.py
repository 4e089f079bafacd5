"""Rule conditions: validated JSON, evaluated against a work item's facts or an agent.

A condition is ``{"field": "contact.account.tier", "op": "in", "value": ["gold", "platinum"]}``;
a rule's conditions all have to hold (an empty list always holds).

Work-item fields: ``channel``, ``subject``, ``text`` (the customer's recent
messages), ``sentiment`` (-3..3), ``effort_minutes``, ``context.<key>``
(pre-chat answers), ``output.<key>`` (earlier rulesets), and record fields
``contact.<field>``, ``account.<field>``, ``case.<field>``, following at most
two related records (``contact.account.tier``; A.5).

Agent fields (custom assignment rules, B.26): ``presence``, ``remaining_capacity``,
``active_items``, ``skills`` (op ``exact``), ``agent.<attribute>``, ``user.<field>``,
and two checks that take no value: ``{"field": "capacity", "op": "available"}``
(room for the item's units) and ``{"field": "calendar", "op": "is_working"}``
(an assignable shift covers now). An agent condition may compare with a
work-item field instead of a fixed value: ``{"field": "agent.language", "op":
"eq", "value": {"item": "contact.language"}}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

OPERATORS = {
    "eq", "ne", "in", "not_in", "contains", "contains_any", "gt", "gte", "lt", "lte", "exists", "similar", "exact",
}
SCALAR_ROOTS = {"channel", "subject", "text", "sentiment", "effort_minutes", "priority"}
MAP_ROOTS = {"context", "output"}
RECORD_ROOTS = {"contact", "account", "case"}
MAX_RELATED_LEVELS = 2
AGENT_ROOTS = {"presence", "remaining_capacity", "active_items", "skills"}
AGENT_RECORD_ROOTS = {"agent", "user"}
#: Operators an agent condition may use against a work-item field (B.26 dynamic comparisons).
DYNAMIC_OPERATORS = {"eq", "ne", "gt", "gte", "lt", "lte", "contains"}
#: Agent-only operators, each with the one field it applies to (B.26); they take no value.
AGENT_OPERATORS = {"available": "capacity", "is_working": "calendar"}


def _check_list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise ValidationError(_("%(what)s must be a list.") % {"what": what})
    return value


def _check_condition(condition: Any, *, agent: bool) -> None:
    if not isinstance(condition, dict) or set(condition) - {"field", "op", "value"}:
        raise ValidationError(_("Each condition is an object with field, op and value."))
    field, op = condition.get("field"), condition.get("op")
    if not isinstance(field, str) or not field:
        raise ValidationError(_("A condition needs a field."))
    if op not in OPERATORS and not (agent and op in AGENT_OPERATORS):
        raise ValidationError(_("Unknown operator %(op)r.") % {"op": op})
    parts = field.split(".")
    root = parts[0]
    if agent and (op in AGENT_OPERATORS or field in AGENT_OPERATORS.values()):
        if AGENT_OPERATORS.get(op) != field or condition.get("value") is not None:
            raise ValidationError(
                _('Write {"field": "capacity", "op": "available"} or {"field": "calendar", "op": "is_working"}, '
                  'without a value.')
            )
        return
    if agent:
        if root not in AGENT_ROOTS | AGENT_RECORD_ROOTS or (root in AGENT_RECORD_ROOTS and len(parts) != 2):
            raise ValidationError(_("Unknown agent field %(f)r.") % {"f": field})
        if root == "skills":
            validate_skill_list(condition.get("value"))
        elif isinstance(condition.get("value"), dict):
            _check_item_reference(condition["value"], op)
            return
    else:
        if root in SCALAR_ROOTS:
            if len(parts) != 1:
                raise ValidationError(_("%(f)s has no sub-fields.") % {"f": root})
        elif root in MAP_ROOTS:
            if len(parts) != 2:
                raise ValidationError(_("Write %(f)s.<key>.") % {"f": root})
        elif root in RECORD_ROOTS:
            if len(parts) < 2:
                raise ValidationError(_("Name a field of %(f)s.") % {"f": root})
            related = parts[:-1] if "attributes" not in parts else parts[: parts.index("attributes")]
            if len(related) > MAX_RELATED_LEVELS:
                raise ValidationError(
                    _("Conditions follow at most %(n)s related records (%(f)s).") % {"n": MAX_RELATED_LEVELS, "f": field}
                )
        else:
            raise ValidationError(_("Unknown field %(f)r.") % {"f": field})
    value = condition.get("value")
    if op in {"in", "not_in", "contains_any"} and not isinstance(value, list):
        raise ValidationError(_("%(op)s takes a list.") % {"op": op})
    if op in {"gt", "gte", "lt", "lte"} and not isinstance(value, int | float):
        raise ValidationError(_("%(op)s takes a number.") % {"op": op})
    if op == "similar":
        if field != "text" or not isinstance(value, dict) or not value.get("examples"):
            raise ValidationError(_('"similar" compares text with {"examples": [...], "threshold": 0.5}.'))
        _check_list(value["examples"], "examples")
        threshold = value.get("threshold", 0.5)
        if not isinstance(threshold, int | float) or not 0 < threshold <= 1:
            raise ValidationError(_("The similarity threshold is between 0 and 1."))


def _check_item_reference(value: dict, op: str) -> None:
    """B.26's dynamic comparison: ``{"item": "contact.language"}`` compares the agent field with a work-item field."""
    path = value.get("item")
    if set(value) != {"item"} or not isinstance(path, str) or path == "text":
        raise ValidationError(_('Compare with a work-item field as {"item": "<field>"} (not the customer\'s text).'))
    if op not in DYNAMIC_OPERATORS:
        raise ValidationError(_("%(op)s cannot compare with a work-item field.") % {"op": op})
    _check_condition({"field": path, "op": "exists"}, agent=False)


def item_reference(value: Any) -> str | None:
    """The work-item field a dynamic agent condition compares with, or None for a static value."""
    return value["item"] if isinstance(value, dict) and "item" in value else None


def uses_item_fields(conditions: list[dict]) -> bool:
    """Whether agent ``conditions`` compare with work-item fields (so the items' records must be read)."""
    return any(item_reference(condition.get("value")) for condition in conditions)


def validate_order_field(value: str) -> None:
    """An agent field to order by (B.25): ``agent.<attribute>`` or ``user.<field>``; ``-`` first for descending."""
    parts = value.removeprefix("-").split(".")
    if len(parts) != 2 or parts[0] not in AGENT_RECORD_ROOTS or not parts[1]:
        raise ValidationError(_("Order by agent.<attribute> or user.<field>, with - in front for descending."))


def validate_conditions(value: Any) -> None:
    for condition in _check_list(value, _("Conditions")):
        _check_condition(condition, agent=False)


def validate_item_conditions(value: Any) -> None:
    """Conditions over a queued work item: the classification fields except the customer's text."""
    validate_conditions(value)
    for condition in value:
        if condition["field"] == "text":
            raise ValidationError(_("Prioritization conditions cannot read the customer's text."))


def validate_agent_conditions(value: Any) -> None:
    for condition in _check_list(value, _("Conditions")):
        _check_condition(condition, agent=True)


def uses_calendar(conditions: list[dict]) -> bool:
    """Whether agent ``conditions`` ask if the agent is working (so shifts must be read)."""
    return any(condition.get("op") == "is_working" for condition in conditions)


def validate_skill_list(value: Any) -> None:
    for item in _check_list(value, _("Skills")):
        if (
            not isinstance(item, dict)
            or set(item) != {"skill", "rating"}
            or not isinstance(item["skill"], int)
            or not isinstance(item["rating"], int)
            or item["rating"] < 1
        ):
            raise ValidationError(_('Skills are [{"skill": <id>, "rating": <n ≥ 1>}].'))


def validate_split(value: Any) -> None:
    parts = _check_list(value, _("The split"))
    if not parts:
        return
    if not 1 <= len(parts) <= 5:
        raise ValidationError(_("A split names 1 to 5 queues."))
    for part in parts:
        if not isinstance(part, dict) or set(part) != {"queue", "percent"} or not isinstance(part["queue"], int):
            raise ValidationError(_('Split parts are {"queue": <id>, "percent": <n>}.'))
        if not isinstance(part["percent"], int) or part["percent"] <= 0:
            raise ValidationError(_("Percentages are positive integers."))
    if sum(part["percent"] for part in parts) != 100:
        raise ValidationError(_("The percentages must add up to exactly 100."))


def resolve(facts: dict[str, Any], field: str) -> Any:
    """The value of a dotted field in ``facts`` (records, dicts); ``None`` when absent."""
    current: Any = facts
    for part in field.split("."):
        if current is None:
            return None
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, models.Model):
            current = getattr(current, part, None)
        else:
            return None
    if isinstance(current, models.Model):
        return current.pk
    return current


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def compare(actual: Any, op: str, expected: Any, *, similar: Callable[[dict], bool] | None = None) -> bool:
    if op == "exists":
        present = actual not in (None, "", [], {})
        return present if expected in (None, True) else not present
    if op == "eq":
        return _norm(actual) == _norm(expected)
    if op == "ne":
        return _norm(actual) != _norm(expected)
    if op == "in":
        return _norm(actual) in {_norm(v) for v in expected}
    if op == "not_in":
        return _norm(actual) not in {_norm(v) for v in expected}
    if op == "contains":
        return isinstance(actual, str) and str(expected).lower() in actual.lower()
    if op == "contains_any":
        return isinstance(actual, str) and any(str(word).lower() in actual.lower() for word in expected)
    if op in {"gt", "gte", "lt", "lte"}:
        if not isinstance(actual, int | float):
            return False
        return {"gt": actual > expected, "gte": actual >= expected, "lt": actual < expected, "lte": actual <= expected}[op]
    if op == "similar":
        return bool(similar and similar(expected))
    return False


def matches(conditions: list[dict], facts: dict[str, Any], *, similar: Callable[[dict], bool] | None = None) -> bool:
    """Whether every condition holds over ``facts``."""
    for condition in conditions:
        actual = resolve(facts, condition["field"])
        if not compare(actual, condition["op"], condition.get("value"), similar=similar):
            return False
    return True
