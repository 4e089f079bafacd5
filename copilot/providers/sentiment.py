"""Sentiment with VADER, mapped to the reference suite's 7-point scale (H.102)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from django.db import models
from django.utils.translation import gettext_lazy as _

#: H.102: real-time sentiment is computed over the customer's last six messages.
TURNS_CONSIDERED = 6


class SentimentLevel(models.IntegerChoices):
    VERY_NEGATIVE = -3, _("Very negative")
    NEGATIVE = -2, _("Negative")
    SLIGHTLY_NEGATIVE = -1, _("Slightly negative")
    NEUTRAL = 0, _("Neutral")
    SLIGHTLY_POSITIVE = 1, _("Slightly positive")
    POSITIVE = 2, _("Positive")
    VERY_POSITIVE = 3, _("Very positive")


# Upper bounds of VADER's compound score (-1..1) for each level, lowest first.
# ±0.05 is VADER's own neutral band.
_BANDS = [
    (-0.6, SentimentLevel.VERY_NEGATIVE),
    (-0.3, SentimentLevel.NEGATIVE),
    (-0.05, SentimentLevel.SLIGHTLY_NEGATIVE),
    (0.05, SentimentLevel.NEUTRAL),
    (0.3, SentimentLevel.SLIGHTLY_POSITIVE),
    (0.6, SentimentLevel.POSITIVE),
]


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _level(compound: float) -> SentimentLevel:
    for upper, level in _BANDS:
        if compound < upper:
            return level
    return SentimentLevel.VERY_POSITIVE


def sentiment(text: str) -> SentimentLevel:
    """The level of one text."""
    return _level(_analyzer().polarity_scores(text)["compound"])


def sentiment_of_turns(turns: Sequence[str]) -> SentimentLevel:
    """The level of a customer's recent turns: VADER over the last six, averaged."""
    recent = [turn for turn in turns if turn.strip()][-TURNS_CONSIDERED:]
    if not recent:
        return SentimentLevel.NEUTRAL
    scores = [_analyzer().polarity_scores(turn)["compound"] for turn in recent]
    return _level(sum(scores) / len(scores))
