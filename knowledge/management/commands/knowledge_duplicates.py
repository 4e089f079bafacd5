from django.core.management import BaseCommand

from knowledge import services


class Command(BaseCommand):
    help = "List pairs of published articles that say nearly the same thing (for clean-up)."

    def add_arguments(self, parser):
        parser.add_argument("--threshold", type=float, default=0.9, help="Cosine similarity of passages (0–1).")
        parser.add_argument("--limit", type=int, default=100)

    def handle(self, threshold: float, limit: int, **options):
        pairs = services.duplicates_find(threshold=threshold, limit=limit)
        for pair in pairs:
            self.stdout.write(
                f"{pair.similarity:.3f}  {pair.first.number} {pair.first.title}"
                f"  ~  {pair.second.number} {pair.second.title}"
            )
        self.stdout.write(self.style.SUCCESS(f"{len(pairs)} pair(s) at or above {threshold}."))
