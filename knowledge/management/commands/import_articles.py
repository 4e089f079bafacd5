"""``import_articles PATH``: import a folder of Markdown files with YAML front matter.

Front matter keys: ``id`` (stable external id; default: the file's path
relative to PATH, without ``.md``), ``title`` (default: the first ``#``
heading), ``language``, ``product``, ``category``, ``keywords`` (list or
comma-separated), ``visibility`` (internal/external), ``summary``, ``status``
(draft, in_review, approved, published). Re-running changes only what changed.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError
from tqdm import tqdm

from contactcenter.exceptions import DomainError
from knowledge import services
from knowledge.choices import ArticleStatus, Language, Visibility

FRONT_MATTER = "---"


def parse(text: str) -> tuple[dict, str]:
    """(front matter, Markdown body) of one file."""
    if text.startswith(FRONT_MATTER):
        _start, header, body = text.split(FRONT_MATTER, 2) if text.count(FRONT_MATTER) >= 2 else ("", "", text)
        meta = yaml.safe_load(header) or {}
        if not isinstance(meta, dict):
            raise ValueError("front matter is not a mapping")
        return meta, body.lstrip("\n")
    return {}, text


def article_fields(meta: dict, body: str, *, default_id: str) -> tuple[str, str, dict]:
    """(external id, status, article fields), validated."""
    title = str(meta.get("title") or "").strip()
    if not title:
        first = next((line for line in body.splitlines() if line.startswith("# ")), "")
        title = first[2:].strip()
        if first:
            body = body.replace(first, "", 1).lstrip("\n")
    if not title:
        raise ValueError("no title (front matter `title` or a leading `# heading`)")
    keywords = meta.get("keywords") or []
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    language = str(meta.get("language") or Language.ENGLISH)
    visibility = str(meta.get("visibility") or Visibility.INTERNAL)
    status = str(meta.get("status") or ArticleStatus.DRAFT)
    if language not in Language.values:
        raise ValueError(f"unknown language {language!r}")
    if visibility not in Visibility.values:
        raise ValueError(f"unknown visibility {visibility!r}")
    if status not in services.importing.IMPORTABLE_STATUSES:
        raise ValueError(f"status must be one of draft, in_review, approved, published, not {status!r}")
    fields = {
        "title": title[:255], "body": body, "summary": str(meta.get("summary") or ""),
        "keywords": [str(k) for k in keywords], "product": str(meta.get("product") or ""),
        "category": str(meta.get("category") or ""), "language": language, "visibility": visibility,
    }
    return str(meta.get("id") or default_id)[:200], status, fields


class Command(BaseCommand):
    help = "Import Markdown articles with YAML front matter from a folder, idempotently by external id."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--as", dest="username", default="admin",
                            help="The user the import acts as (a knowledge manager to publish). Default: admin.")
        parser.add_argument("--no-index", action="store_true", help="Leave embedding to the Celery worker.")

    def handle(self, path: Path, username: str, no_index: bool, **options):
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        actor = get_user_model().objects.filter(username=username).first()
        if actor is None:
            raise CommandError(f"no user {username!r}; pass --as USERNAME")
        files = sorted([path] if path.is_file() else path.rglob("*.md"))
        counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        root = path if path.is_dir() else path.parent
        for file in tqdm(files, desc="Importing", unit="article", file=self.stderr, disable=options["verbosity"] < 1):
            try:
                meta, body = parse(file.read_text(encoding="utf-8"))
                external_id, status, fields = article_fields(
                    meta, body, default_id=str(file.relative_to(root).with_suffix(""))
                )
                result = services.article_import(actor=actor, external_id=external_id, status=status, **fields)
            except (ValueError, yaml.YAMLError, UnicodeDecodeError, DomainError) as error:
                counts["failed"] += 1
                self.stderr.write(f"{file}: {getattr(error, 'message', error)}")
                continue
            counts[result.outcome] += 1
            if not no_index and result.outcome != "unchanged":
                services.article_index(article_id=result.article.pk)
        self.stdout.write(
            self.style.SUCCESS(
                "{created} created, {updated} updated, {unchanged} unchanged, {failed} failed".format(**counts)
            )
        )
