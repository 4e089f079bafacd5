from django.core.management import BaseCommand

from knowledge import services
from knowledge.models import Article, ResolvedCaseIndex
from knowledge.services.assist import case_index


class Command(BaseCommand):
    help = "Re-chunk and re-embed every article (and every indexed resolved case)."

    def add_arguments(self, parser):
        parser.add_argument("--changed-only", action="store_true", help="Skip articles whose text did not change.")

    def handle(self, changed_only: bool, **options):
        passages = 0
        for pk in Article.objects.order_by("pk").values_list("pk", flat=True):
            passages += services.article_index(article_id=pk, force=not changed_only)
        cases = [case_index(case_id=pk) for pk in ResolvedCaseIndex.objects.values_list("case_id", flat=True)]
        self.stdout.write(self.style.SUCCESS(
            f"Indexed {passages} passages of {Article.objects.count()} articles "
            f"and {len([c for c in cases if c])} cases."
        ))
