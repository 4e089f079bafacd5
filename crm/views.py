from django.core.paginator import Paginator
from django.shortcuts import render

from crm import selectors

CONVERSATIONS_PER_PAGE = 25


def home(request):
    conversations = selectors.conversations_visible_to(request.user).order_by("-created_at")
    page = Paginator(conversations, CONVERSATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "crm/home.html", {"page": page})
