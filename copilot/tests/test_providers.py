import math

import pytest

from copilot.providers import EMBEDDING_DIMENSIONS, SentimentLevel, embed, sentiment, sentiment_of_turns


class TestSentiment:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("This is the worst service ever, I am furious and disgusted!", SentimentLevel.VERY_NEGATIVE),
            ("I ordered a laptop on Tuesday.", SentimentLevel.NEUTRAL),
            ("Thank you so much, that was wonderful and really helpful!", SentimentLevel.VERY_POSITIVE),
        ],
    )
    def test_levels_of_clear_texts(self, text, expected):
        assert sentiment(text) == expected

    def test_only_the_last_six_customer_turns_count(self):
        angry = ["This is terrible, I hate it and I am furious!"]
        calm = ["Thanks, that is great, very helpful."] * 6

        assert sentiment_of_turns(angry + calm) >= SentimentLevel.POSITIVE
        assert sentiment_of_turns([]) == SentimentLevel.NEUTRAL


@pytest.mark.slow
class TestEmbedding:
    def test_vectors_are_unit_length_and_384_wide(self):
        [vector] = embed(["My card has not arrived yet"])
        assert len(vector) == EMBEDDING_DIMENSIONS
        assert math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-4)

    def test_paraphrases_are_closer_than_unrelated_text(self):
        card, paraphrase, unrelated = embed(
            ["My new card still hasn't arrived", "When will my card be delivered?", "How do I reset my router?"]
        )
        close = sum(a * b for a, b in zip(card, paraphrase))
        far = sum(a * b for a, b in zip(card, unrelated))
        assert close > far + 0.2

    def test_empty_input_embeds_nothing(self):
        assert embed([]) == []
