"""Web chat over HTTP: the demo page, attachment upload limits and download."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from channels_ingress.demo import DEMO_WEBCHAT_KEY
from channels_ingress.models import WebChatChannel
from channels_ingress.services import webchat

pytestmark = pytest.mark.django_db

UPLOAD = "/webchat/shop-chat-key/attachments/"


def token_for(channel):
    return webchat.visitor_start(channel=channel, token=None).token


def test_demo_page_needs_no_sign_in_and_embeds_the_widget(client):
    WebChatChannel.objects.create(name="Demo", public_key=DEMO_WEBCHAT_KEY)
    response = client.get("/demo/webchat/")
    assert response.status_code == 200
    assert b'src="/static/channels_ingress/widget.js"' in response.content
    assert f'data-channel="{DEMO_WEBCHAT_KEY}"'.encode() in response.content


def test_widget_assets_are_served(client):
    assert client.get("/static/channels_ingress/widget.js").status_code == 200
    assert client.get("/static/channels_ingress/widget.css").status_code == 200


def test_upload_returns_a_ref_that_a_message_can_carry_and_download(client, webchat_channel):
    visitor = webchat.visitor_start(channel=webchat_channel, token=None)
    response = client.post(
        UPLOAD, {"file": SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf")},
        headers={"X-Visitor-Token": visitor.token, "Origin": "http://testserver"},
    )
    assert response.status_code == 201, response.content
    stored = response.json()
    assert stored["name"] == "receipt.pdf" and stored["size"] == 16
    assert response["Access-Control-Allow-Origin"] == "http://testserver"

    result = webchat.webchat_message_receive(visitor=visitor, body="", attachment_refs=[stored["ref"]])
    attachment = result.message.attachments[0]
    assert attachment["name"] == "receipt.pdf"
    download = client.get(attachment["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 receipt"


def test_another_visitors_ref_is_rejected(webchat_channel):
    owner = webchat.visitor_start(channel=webchat_channel, token=None)
    thief = webchat.visitor_start(channel=webchat_channel, token=None)
    stored = webchat.webchat_attachment_store(
        visitor=owner, upload=SimpleUploadedFile("a.txt", b"hello"), name="a.txt"
    )
    with pytest.raises(webchat.AttachmentRejected):
        webchat.webchat_message_receive(visitor=thief, body="mine now", attachment_refs=[stored["ref"]])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", b"MZ", "Files of type .exe cannot be sent."),
        ("big.png", b"x" * 2048, "The file is larger than"),
        ("empty.txt", b"", "The file is empty."),
    ],
)
def test_rejected_files_get_a_clear_message_and_nothing_is_stored(client, webchat_channel, name, content, message):
    WebChatChannel.objects.filter(pk=webchat_channel.pk).update(max_attachment_bytes=1024)
    response = client.post(
        UPLOAD, {"file": SimpleUploadedFile(name, content)}, headers={"X-Visitor-Token": token_for(webchat_channel)}
    )
    assert response.status_code == 422
    assert message in response.json()["error"]["message"]


def test_upload_bad_input(client, webchat_channel):
    token = token_for(webchat_channel)
    file = SimpleUploadedFile("a.txt", b"hello")
    assert client.post("/webchat/nope/attachments/", {"file": file}, headers={"X-Visitor-Token": token}).status_code == 404
    assert client.post(UPLOAD, {"file": file}, headers={"X-Visitor-Token": "forged"}).status_code == 403
    assert client.post(UPLOAD, {"file": file}, headers={"X-Visitor-Token": token, "Origin": "https://evil.example"}).status_code == 403
    wrong_type = client.post(UPLOAD, b"hello", content_type="text/plain", headers={"X-Visitor-Token": token})
    assert wrong_type.status_code == 415
    assert client.post(UPLOAD, {}, headers={"X-Visitor-Token": token}).status_code == 400
    WebChatChannel.objects.filter(pk=webchat_channel.pk).update(attachments_enabled=False)
    assert client.post(UPLOAD, {"file": file}, headers={"X-Visitor-Token": token}).status_code == 422


def test_bad_download_ref_is_404(client):
    assert client.get("/webchat/attachments/forged-ref/").status_code == 404


def test_prechat_email_of_a_known_contact_links_the_chat_to_that_contact(webchat_channel):
    from crm.models import Contact

    known = Contact.objects.create(first_name="Dana", last_name="Reyes", email="dana@example.com")
    visitor = webchat.visitor_start(channel=webchat_channel, token=None)
    result = webchat.webchat_message_receive(
        visitor=visitor, body="Hi again", prechat={"name": "Dana R", "email": "DANA@example.com"}
    )
    assert result.conversation.contact == known
    assert Contact.objects.count() == 1
    stranger = webchat.visitor_start(channel=webchat_channel, token=None)
    other = webchat.webchat_message_receive(
        visitor=stranger, body="Hello", prechat={"name": "Lee Park", "email": "lee@example.com"}
    )
    assert other.conversation.contact != known and other.conversation.contact.email == "lee@example.com"


def test_transcript_download_has_the_visitors_latest_chat_without_notes(client, webchat_channel, agent):
    from crm import services as crm_services

    visitor = webchat.visitor_start(channel=webchat_channel, token=None)
    result = webchat.webchat_message_receive(visitor=visitor, body="Is the X200 in stock?", prechat={"name": "Dana", "email": "d@example.com"})
    crm_services.message_send(conversation=result.conversation, sender=agent, body="Yes, 4 left.")
    crm_services.note_add(conversation=result.conversation, author=agent, body="secret note")
    webchat.webchat_end(visitor=visitor, rating=5)

    response = client.get("/webchat/shop-chat-key/transcript/", headers={"X-Visitor-Token": visitor.token})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="chat-transcript.txt"'
    text = response.content.decode()
    assert "You: Is the X200 in stock?" in text and "Alice: Yes, 4 left." in text
    assert "secret note" not in text and "closed" not in text

    other = webchat.visitor_start(channel=webchat_channel, token=None)
    assert client.get("/webchat/shop-chat-key/transcript/", headers={"X-Visitor-Token": other.token}).status_code == 404
    assert client.get("/webchat/shop-chat-key/transcript/", headers={"X-Visitor-Token": "forged"}).status_code == 403
    assert client.get("/webchat/nope/transcript/").status_code == 404
