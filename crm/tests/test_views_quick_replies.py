"""Personal quick replies: each agent manages their own; shared ones are read-only here."""

import pytest

from crm.models import CannedResponse

pytestmark = pytest.mark.django_db

REPLY = {
    "slug": "thanks",
    "title": "Thanks",
    "body": "Thanks {customerFirstName}!",
    "tags": "greeting  closing",
    "language": "en",
}


def test_agent_adds_edits_and_deletes_own_reply(client, agent):
    client.force_login(agent)

    assert client.post("/quick-replies/", REPLY).status_code == 302
    reply = CannedResponse.objects.get(owner=agent)
    assert reply.tags == "greeting closing"
    client.post(f"/quick-replies/{reply.pk}/", {**REPLY, "body": "Many thanks!"})
    reply.refresh_from_db()
    assert reply.body == "Many thanks!"
    client.post(f"/quick-replies/{reply.pk}/delete/")
    assert not CannedResponse.objects.exists()


def test_duplicate_slug_is_refused_per_owner(client, agent, other_agent):
    CannedResponse.objects.create(owner=other_agent, slug="thanks", title="t", body="b")
    client.force_login(agent)
    assert client.post("/quick-replies/", REPLY).status_code == 302
    response = client.post("/quick-replies/", REPLY)
    assert response.status_code == 422 and b"already have a quick reply" in response.content


def test_others_and_shared_replies_cannot_be_edited_or_deleted(client, agent, other_agent):
    theirs = CannedResponse.objects.create(owner=other_agent, slug="mine", title="t", body="b")
    shared = CannedResponse.objects.create(slug="shared", title="t", body="b")
    client.force_login(agent)
    for reply in (theirs, shared):
        assert client.get(f"/quick-replies/{reply.pk}/").status_code == 404
        assert client.post(f"/quick-replies/{reply.pk}/delete/").status_code == 404
    assert CannedResponse.objects.count() == 2
    page = client.get("/quick-replies/").content.decode()
    assert "/shared" in page and "/mine" not in page


def test_outsider_is_refused(client, outsider):
    client.force_login(outsider)
    assert client.get("/quick-replies/").status_code == 403
