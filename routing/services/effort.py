"""Predicted effort (handle minutes) of a conversation, learned from closed conversations.

An ordinary-least-squares model (statsmodels) of log handle time over the
channel, the queue and text features. Until ``MIN_SAMPLES`` closed
conversations exist a per-channel fallback answers, with low confidence.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from crm.choices import ChannelKind, ConversationStatus
from crm.models import Conversation
from routing.models import EffortModel

MIN_SAMPLES = 30
TRAINING_LIMIT = 5000
#: Fallback handle minutes per channel, until enough history exists.
FALLBACK_MINUTES = {
    ChannelKind.WEBCHAT: 8.0, ChannelKind.SMS: 15.0, ChannelKind.EMAIL: 20.0,
    ChannelKind.VOICE: 6.0, ChannelKind.CUSTOM: 10.0,
}
FALLBACK_CONFIDENCE = 0.2


@dataclass(frozen=True)
class Effort:
    minutes: float
    confidence: float
    source: str


def _features(*, channel: str, queue_id: int | None, text: str, channels: list[str], queues: list[int]) -> list[float]:
    row = [1.0]
    row += [1.0 if channel == c else 0.0 for c in channels[1:]]
    row += [1.0 if queue_id == q else 0.0 for q in queues[1:]]
    row.append(math.log1p(len(text)))
    row.append(math.log1p(len(text.split())))
    return row


def effort_predict(*, channel: str, queue_id: int | None, text: str) -> Effort:
    """Predicted handle minutes with a confidence in 0..1 (the model's R², shrunk for small samples)."""
    from routing.services.cache import cached

    model = cached("effort_model", lambda: EffortModel.objects.first())
    if model is None or model.sample_count < MIN_SAMPLES:
        return Effort(FALLBACK_MINUTES.get(channel, 10.0), FALLBACK_CONFIDENCE, "fallback")
    c = model.coefficients
    row = _features(channel=channel, queue_id=queue_id, text=text, channels=c["channels"], queues=c["queues"])
    log_minutes = sum(weight * value for weight, value in zip(c["params"], row, strict=True))
    minutes = max(0.5, min(math.expm1(log_minutes), 24 * 60.0))
    confidence = max(0.0, min(1.0, model.r_squared)) * (model.sample_count / (model.sample_count + 100))
    return Effort(round(minutes, 2), round(confidence, 3), "model")


def effort_model_train() -> EffortModel | None:
    """Fit a new model on the latest closed, handled conversations; None when too few exist.

    Side effects: an EffortModel row (the newest one is used for predictions).
    """
    import numpy as np
    import statsmodels.api as sm

    rows = list(
        Conversation.objects.filter(
            status=ConversationStatus.CLOSED, assigned_at__isnull=False, closed_at__gt=F("assigned_at")
        )
        .order_by("-closed_at")
        .values("id", "channel_kind", "queue_id", "assigned_at", "closed_at", "subject")[:TRAINING_LIMIT]
    )
    if len(rows) < MIN_SAMPLES:
        return None
    from crm.models import Message

    texts: dict[int, list[str]] = {}
    for conversation_id, body in Message.objects.filter(
        conversation_id__in=[r["id"] for r in rows], sender_kind="customer"
    ).values_list("conversation_id", "body"):
        texts.setdefault(conversation_id, []).append(body)
    channels = sorted({r["channel_kind"] for r in rows})
    queues = sorted({r["queue_id"] for r in rows if r["queue_id"] is not None})
    X, y = [], []
    for r in rows:
        text = " ".join(texts.get(r["id"], [])) or r["subject"]
        X.append(_features(channel=r["channel_kind"], queue_id=r["queue_id"], text=text, channels=channels, queues=queues))
        y.append(math.log1p((r["closed_at"] - r["assigned_at"]).total_seconds() / 60))
    with warnings.catch_warnings():
        # Collinear features (one channel, no queues yet) are fine: OLS solves with a pseudo-inverse.
        warnings.simplefilter("ignore")
        fit = sm.OLS(np.array(y), np.array(X)).fit()
    r_squared = float(fit.rsquared) if math.isfinite(fit.rsquared) else 0.0
    from routing.services.cache import config_cache_clear

    model = EffortModel.objects.create(
        coefficients={"params": [float(p) for p in fit.params], "channels": channels, "queues": queues,
                      "trained_on": timezone.now().isoformat()},
        sample_count=len(rows),
        r_squared=r_squared,
    )
    config_cache_clear()
    return model
