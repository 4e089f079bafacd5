"""Small AI interfaces every app may use: ``embed``, ``sentiment`` (and, as they land,
``summarize`` and ``generate``). They depend only on settings.

The defaults run offline on this machine and are deterministic.
"""

from copilot.providers.embedding import EMBEDDING_DIMENSIONS, EMBEDDING_MODEL, embed
from copilot.providers.generation import ContextPassage, Generation, generate
from copilot.providers.sentiment import SentimentLevel, sentiment, sentiment_of_turns

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "EMBEDDING_MODEL",
    "ContextPassage",
    "Generation",
    "SentimentLevel",
    "embed",
    "generate",
    "sentiment",
    "sentiment_of_turns",
]
