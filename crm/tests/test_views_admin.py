"""Every CRM model is administrable: list, search and add pages render for an administrator."""

import pytest
from django.contrib import admin
from django.urls import reverse

from crm import services
from crm.models import Case, DispositionCode
from crm.tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db

CRM_MODELS = [model for model in admin.site._registry if model._meta.app_label == "crm"]


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(username="root", password="pw", email="root@example.com")
    client.force_login(user)
    return client


def test_every_crm_model_is_registered():
    from django.apps import apps

    assert set(apps.get_app_config("crm").get_models()) == set(CRM_MODELS)


@pytest.mark.parametrize("model", CRM_MODELS, ids=lambda model: model.__name__)
def test_changelist_search_and_add_render(admin_client, model):
    ConversationFactory()
    info = (model._meta.app_label, model._meta.model_name)
    assert admin_client.get(reverse("admin:%s_%s_changelist" % info), {"q": "CAS-1"}).status_code == 200
    add = admin_client.get(reverse("admin:%s_%s_add" % info))
    assert add.status_code in (200, 403)


def test_case_is_found_by_number_and_shows_message_inline(admin_client, supervisor):
    conversation = ConversationFactory()
    services.message_send(conversation=conversation, sender=supervisor, body="Hello from the admin test")
    case = services.case_create(contact=ContactFactory(), subject="Broken TV", actor=supervisor)

    listing = admin_client.get(reverse("admin:crm_case_changelist"), {"q": case.number}).content.decode()
    page = admin_client.get(reverse("admin:crm_conversation_change", args=[conversation.pk])).content.decode()

    assert case.number in listing
    assert "Hello from the admin test" in page


def test_case_added_in_admin_gets_a_number(admin_client):
    contact = ContactFactory()
    response = admin_client.post(
        reverse("admin:crm_case_add"),
        {
            "subject": "Added by hand",
            "description": "",
            "status": "new",
            "priority": 2,
            "severity": 3,
            "contact": contact.pk,
            "resolution": "",
            "activities-TOTAL_FORMS": 0,
            "activities-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    assert Case.objects.get(subject="Added by hand").number.startswith("CAS-")


def test_system_disposition_code_cannot_be_deleted(admin_client):
    code = DispositionCode.objects.create(code="dnc-test", label="Do Not Contact", is_system=True)
    response = admin_client.post(reverse("admin:crm_dispositioncode_delete", args=[code.pk]), {"post": "yes"})
    assert response.status_code == 403 and DispositionCode.objects.filter(pk=code.pk).exists()
