"""Authoring pages for agents and knowledge managers, and the public help center (thin: forms → services)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from contactcenter.exceptions import DomainError
from contactcenter.permissions import staff_required
from crm import selectors as crm_selectors
from knowledge import selectors, services
from knowledge.choices import ArticleStatus, FeedbackSource
from knowledge.forms import (
    ArticleForm,
    ArticleSearchForm,
    ArticleUseForm,
    PublishForm,
    ReviewForm,
    SuggestionRateForm,
    VersionForm,
    VoteForm,
)
from knowledge.models import Article
from knowledge.permissions import can_edit, can_manage
from knowledge.text import render_markdown

ARTICLES_PER_PAGE = 25
HELP_RESULTS = 10
#: Help-center votes: one per article per visitor address a day, and at most
#: this many votes per address an hour (anonymous endpoints attract scripts).
VOTES_PER_HOUR = 20
VOTE_MEMORY_SECONDS = 24 * 3600



def _article_for(request, pk: int) -> Article:
    article = selectors.article_get(user=request.user, article_id=pk)
    if article is None:
        raise Http404
    return article


# --- authoring -------------------------------------------------------------

@staff_required
@require_GET
def article_list(request):
    form = ArticleSearchForm(request.GET or None, languages=selectors.languages_in_use())
    data = form.cleaned_data if form.is_valid() else {}
    hits = None
    if data.get("q"):
        filters = {key: data[key] for key in ("status", "language", "visibility") if data.get(key)}
        hits = services.search(data["q"], filters=filters, k=ARTICLES_PER_PAGE, user=request.user,
                               sort=data.get("sort") or "relevance")
        page = None
    else:
        articles = selectors.articles_visible_to(request.user)
        for key in ("status", "language", "visibility"):
            if data.get(key):
                articles = articles.filter(**{key: data[key]})
        order = {"views": "-view_count", "recency": "-updated_at"}.get(data.get("sort"), "-updated_at")
        page = Paginator(articles.order_by(order, "-id"), ARTICLES_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "hits": hits, "can_manage": can_manage(request.user),
               "review_count": selectors.review_queue(request.user).count()}
    template = "knowledge/partials/_article_rows.html" if request.htmx else "knowledge/article_list.html"
    return render(request, template, context)


@staff_required
def article_create(request):
    template = selectors.article_template_get(template_id=request.GET.get("template", ""))
    form = ArticleForm(request.POST or None, initial=template.initial() if template else None)
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(author=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Draft %(number)s saved.") % {"number": article.number})
            return redirect("knowledge:article_detail", pk=article.pk)
    context = {"form": form, "article": None, "templates": selectors.article_templates(), "template": template}
    return render(request, "knowledge/article_form.html", context)


@staff_required
def article_edit(request, pk: int):
    article = _article_for(request, pk)
    if not can_edit(request.user, article) or article.status != ArticleStatus.DRAFT:
        messages.error(request, _("Only drafts are edited; create a new version of a published article."))
        return redirect("knowledge:article_detail", pk=article.pk)
    form = ArticleForm(request.POST or None, instance=article)
    if request.method == "POST" and form.is_valid():
        try:
            services.article_update(article=article, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("knowledge:article_detail", pk=article.pk)
    return render(request, "knowledge/article_form.html", {"form": form, "article": article})


@staff_required
@require_POST
def article_preview(request):
    """The sanitised HTML of the Markdown being edited (htmx, as the author types)."""
    return render(request, "knowledge/partials/_preview.html", {"html": render_markdown(request.POST.get("body", ""))})


@staff_required
@require_POST
def article_suggest(request):
    """Suggested keywords and summary for the article being edited, swapped into the form's fields (htmx)."""
    suggestion = services.article_suggestions(
        title=request.POST.get("title", "")[:255], body=request.POST.get("body", "")[:100_000]
    )
    return render(request, "knowledge/partials/_suggestions.html", {"suggestion": suggestion})


def _detail_context(request, article: Article) -> dict:
    return {
        "article": article,
        "can_edit": can_edit(request.user, article),
        "can_manage": can_manage(request.user),
        "publish_form": PublishForm(),
        "review_form": ReviewForm(),
        "version_form": VersionForm(),
    }


@staff_required
@require_GET
def article_detail(request, pk: int):
    article = _article_for(request, pk)
    services.article_view_record(article=article)
    context = _detail_context(request, article) | {
        "family": selectors.article_family(article),
        "analytics": selectors.article_analytics(article=article),
    }
    return render(request, "knowledge/article_detail.html", context)


ACTIONS = {"submit", "approve", "reject", "publish", "new-version", "expire", "archive", "discard"}


@staff_required
@require_POST
def article_action(request, pk: int, action: str):
    """One lifecycle step; htmx gets the status panel back, a plain form post a redirect."""
    if action not in ACTIONS:
        raise Http404
    article = _article_for(request, pk)
    error = None
    try:
        article = _run_action(request, article, action)
    except (DomainError, ValueError) as exc:
        error = getattr(exc, "message", str(exc))
    if error is None and action == "new-version":
        url = f"/knowledge/{article.pk}/edit/"
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("knowledge:article_detail", pk=article.pk)
    article.refresh_from_db()
    context = _detail_context(request, article) | {"error": error}
    return render(request, "knowledge/partials/_article_status.html", context, status=200 if not error else 409)


def _run_action(request, article: Article, action: str) -> Article:
    actor = request.user
    if action == "submit":
        return services.article_submit(article=article, actor=actor)
    if action in ("approve", "reject"):
        form = ReviewForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        if action == "approve":
            return services.article_approve(article=article, actor=actor, comment=comment)
        if not comment:
            raise ValueError(_("Say what should change: a rejection needs a comment."))
        return services.article_reject(article=article, actor=actor, comment=comment)
    if action == "publish":
        form = PublishForm(request.POST)
        if not form.is_valid():
            raise ValueError(" ".join(str(e) for errors in form.errors.values() for e in errors))
        return services.article_publish(article=article, actor=actor, **form.cleaned_data)
    if action == "new-version":
        form = VersionForm(request.POST)
        major = form.cleaned_data["major"] if form.is_valid() else False
        return services.article_version_create(article=article, actor=actor, major=major)
    operation = {"expire": services.article_expire, "archive": services.article_archive,
                 "discard": services.article_discard}[action]
    return operation(article=article, actor=actor)


@staff_required
@require_GET
def draft_queue(request):
    if not can_manage(request.user):
        raise PermissionDenied
    return render(request, "knowledge/draft_queue.html", {
        "drafts": selectors.drafts_for_review(request.user)[:100],
        "articles": selectors.review_queue(request.user)[:100],
    })


@staff_required
@require_POST
def draft_review(request, pk: int, action: str):
    draft = get_object_or_404(selectors.drafts_for_review(request.user), pk=pk)
    try:
        if action == "accept":
            article = services.draft_accept(draft=draft, actor=request.user)
            url = f"/knowledge/{article.pk}/edit/"
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        if action == "dismiss":
            services.draft_dismiss(draft=draft, actor=request.user)
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, error.message)
    return HttpResponse("") if request.htmx else redirect("knowledge:draft_queue")


@staff_required
@require_GET
def smart_assist_panel(request):
    """The smart-assist fragment for a conversation or case the agent may see (htmx; refreshed by the workspace)."""
    conversation = case = None
    if request.GET.get("conversation", "").isdigit():
        conversation_id = int(request.GET["conversation"])
        conversation = crm_selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        if conversation is None:
            raise Http404
    elif request.GET.get("case", "").isdigit():
        case = crm_selectors.cases_visible_to(request.user).filter(pk=int(request.GET["case"])).first()
        if case is None:
            raise Http404
    else:
        return HttpResponse(status=400)
    assist = services.smart_assist(conversation=conversation, case=case, user=request.user)
    context = {"assist": assist, "conversation": conversation, "case": case or getattr(conversation, "case", None)}
    return render(request, "knowledge/partials/_smart_assist.html", context)


@staff_required
@require_POST
def article_use(request, pk: int):
    """Record an article linked or sent to a customer from the workspace (J.133 analytics)."""
    article = _article_for(request, pk)
    form = ArticleUseForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    data = form.cleaned_data
    conversation = (
        crm_selectors.conversation_get(user=request.user, conversation_id=data["conversation"])
        if data["conversation"] else None
    )
    case = crm_selectors.cases_visible_to(request.user).filter(pk=data["case"]).first() if data["case"] else None
    services.article_usage_record(article=article, kind=data["kind"], user=request.user,
                                  conversation=conversation, case=case)
    return HttpResponse(status=204)


@staff_required
@require_POST
def suggestion_rate(request):
    """Thumbs up/down on a smart-assist card; the card is replaced by the acknowledgement (H.109)."""
    form = SuggestionRateForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    data = form.cleaned_data
    article = selectors.article_get(user=request.user, article_id=data["article"]) if data["article"] else None
    # Similar cases may belong to colleagues: the agent was shown the suggestion, so any indexed case counts.
    suggested = selectors.suggestable_case_get(case_id=data["suggested_case"]) if data["suggested_case"] else None
    if article is None and suggested is None:
        raise Http404
    conversation = (
        crm_selectors.conversation_get(user=request.user, conversation_id=data["conversation"])
        if data["conversation"] else None
    )
    case = crm_selectors.cases_visible_to(request.user).filter(pk=data["case"]).first() if data["case"] else None
    services.suggestion_rate(user=request.user, helpful=data["helpful"], confidence=data["confidence"],
                             article=article, suggested_case=suggested, conversation=conversation, case=case)
    return render(request, "knowledge/partials/_suggestion_rated.html", {"helpful": data["helpful"]})


# --- help center (public) --------------------------------------------------

@login_not_required
@require_GET
def help_home(request):
    query = request.GET.get("q", "").strip()[:200]
    language = request.GET.get("lang", "")
    filters = {"language": language} if language else None
    hits = services.search(query, filters=filters, k=HELP_RESULTS) if query else None
    popular = None if query else selectors.public_articles_popular(language=language or None)
    return render(request, "knowledge/help_home.html", {"query": query, "hits": hits, "popular": popular})


@login_not_required
@require_GET
def help_article(request, number: str):
    article = selectors.public_article_get(number=number, language=request.GET.get("lang"))
    if article is None:
        raise Http404
    services.article_view_record(article=article)
    translations = [a for a in selectors.public_articles_of(number=number) if a.pk != article.pk]
    return render(request, "knowledge/help_article.html", {"article": article, "translations": translations})


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")


@login_not_required
@require_POST
def help_vote(request, number: str):
    """"Was this helpful?" — CSRF-protected, one vote per article and visitor a day, capped per hour."""
    article = selectors.public_article_get(number=number, language=request.POST.get("lang"))
    if article is None:
        raise Http404
    form = VoteForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    address = _client_address(request)
    hourly = f"knowledge:votes:{address}"
    cache.add(hourly, 0, 3600)
    if cache.incr(hourly) > VOTES_PER_HOUR or not cache.add(
        f"knowledge:vote:{address}:{article.number}", 1, VOTE_MEMORY_SECONDS
    ):
        context = {"article": article, "limited": True}
        return render(request, "knowledge/partials/_vote.html", context, status=429)
    services.article_feedback_add(
        article=article, helpful=form.cleaned_data["helpful"], source=FeedbackSource.CUSTOMER,
        comment=form.cleaned_data["comment"],
    )
    if not request.htmx:
        messages.success(request, _("Thank you for your feedback."))
        return redirect("knowledge:help_article", number=article.number)
    return render(request, "knowledge/partials/_vote.html", {"article": article, "voted": True})
