from io import StringIO

import pytest
from django.core.management import call_command

from knowledge.choices import ArticleStatus
from knowledge.models import Article, ArticlePassage

pytestmark = pytest.mark.django_db

RETURNS = """---
id: returns-policy
title: Return an item within 30 days
language: en
product: All products
keywords: [returns, refund]
visibility: external
status: published
---
## How to return
Start the return from your order page and print the label.
"""
TV = """---
keywords: tv, hdmi
status: draft
---
# TV shows no signal

Press **Source** and pick the HDMI port the cable is in.
"""


def run(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_articles", str(path), "--as", "km", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "returns.md").write_text(RETURNS)
    (tmp_path / "tv.md").write_text(TV)
    (tmp_path / "broken.md").write_text("---\nvisibility: everyone\n---\n# Broken\n")
    return tmp_path


def test_imports_front_matter_and_is_idempotent(folder, manager):
    out, err = run(folder)

    assert "2 created, 0 updated, 0 unchanged, 1 failed" in out
    assert "broken.md: unknown visibility 'everyone'" in err and "Importing" in err
    returns = Article.objects.get(external_id="returns-policy")
    assert (returns.status, returns.visibility) == (ArticleStatus.PUBLISHED, "external")
    assert returns.keywords == ["returns", "refund"]
    tv = Article.objects.get(external_id="tv")
    assert (tv.title, tv.status, tv.keywords) == ("TV shows no signal", ArticleStatus.DRAFT, ["tv", "hdmi"])
    assert "<strong>Source</strong>" in tv.body_html
    assert ArticlePassage.objects.filter(article=returns, status="published").exists()

    out, _err = run(folder)
    assert "0 created, 0 updated, 2 unchanged, 1 failed" in out
    assert Article.objects.count() == 2


def test_a_changed_published_article_becomes_a_new_published_version(folder, manager):
    run(folder)
    (folder / "policies" / "returns.md").write_text(RETURNS.replace("30 days", "45 days"))

    out, _err = run(folder)

    assert "1 updated" in out
    versions = dict(Article.objects.filter(external_id__isnull=True).values_list("title", "status"))
    assert versions == {"Return an item within 45 days": ArticleStatus.PUBLISHED}
    assert Article.objects.get(external_id="returns-policy").status == ArticleStatus.ARCHIVED


def test_rebuild_index(folder, manager):
    run(folder, "--no-index")
    out = StringIO()
    call_command("rebuild_knowledge_index", stdout=out)
    assert "of 2 articles" in out.getvalue()
    assert ArticlePassage.objects.count() >= 2
