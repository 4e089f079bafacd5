"""Channel configuration: validation rules, the admin pages and the demo data."""

import io
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from channels_ingress import demo
from channels_ingress.models import (
    CustomChannel,
    EmailChannel,
    IvrOption,
    OperatingHours,
    SmsChannel,
    VoiceChannel,
    WebChatChannel,
    validate_prechat_questions,
)
from channels_ingress.services import InboundMessage, inbound_receive

pytestmark = pytest.mark.django_db


def test_prechat_survey_rules():
    validate_prechat_questions([{"name": "order", "label": "Order number", "type": "single_line", "required": True}])
    too_many = [{"name": f"q{n}", "label": "Q", "type": "single_line"} for n in range(11)]
    bad = [
        too_many,
        [{"name": "q", "label": "x" * 513}],
        [{"name": "q", "label": "Q", "type": "dropdown"}],
        [{"name": "q", "label": "Q", "type": "option_set"}],
        [{"name": "q", "label": "Q"}, {"name": "q", "label": "Again"}],
        [{"name": "not valid", "label": "Q"}],
        "not a list",
    ]
    for questions in bad:
        with pytest.raises(ValidationError):
            validate_prechat_questions(questions)


def test_operating_hours_follow_their_time_zone_and_days():
    hours = OperatingHours(name="NY", time_zone="America/New_York", weekdays=[0, 1, 2, 3, 4], opens_at=time(8), closes_at=time(20))
    new_york = ZoneInfo("America/New_York")
    assert hours.is_open(datetime(2026, 11, 30, 9, 0, tzinfo=new_york))      # Monday 9:00
    assert not hours.is_open(datetime(2026, 11, 30, 20, 0, tzinfo=new_york))  # closing time
    assert not hours.is_open(datetime(2026, 11, 29, 12, 0, tzinfo=new_york))  # Sunday
    assert hours.is_open(datetime(2026, 11, 30, 14, 0, tzinfo=ZoneInfo("UTC")))  # 9:00 in New York
    with pytest.raises(ValidationError):
        OperatingHours(name="bad", time_zone="Mars/Olympus").full_clean()
    with pytest.raises(ValidationError):
        OperatingHours(name="bad", opens_at=time(18), closes_at=time(8)).full_clean()


def test_ivr_option_needs_a_key_or_keyword_and_its_target():
    with pytest.raises(ValidationError):
        IvrOption(label="x", action="queue").clean()
    with pytest.raises(ValidationError):
        IvrOption(label="x", dtmf="1", action="submenu").clean()
    IvrOption(label="x", dtmf="1", action="knowledge").clean()  # no fixed text: answered from the knowledge base


def test_new_web_chat_channel_blocks_executables_and_validates_colours():
    channel = WebChatChannel.objects.create(name="Site")
    assert "exe" in channel.blocked_extensions and len(channel.public_key) >= 6
    channel.primary_colour = "blue"
    with pytest.raises(ValidationError):
        channel.full_clean()


def test_inbound_receive_is_idempotent_and_leaves_the_conversation_unassigned():
    inbound = InboundMessage(channel_kind="sms", address="+14155550100", body="hi", provider_message_id="SM1")
    first = inbound_receive(inbound=inbound)
    again = inbound_receive(inbound=inbound)
    assert first.created and not again.created and again.message.pk == first.message.pk
    assert first.conversation.assigned_agent_id is None


def test_demo_seed_is_idempotent():
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    assert WebChatChannel.objects.filter(public_key=demo.DEMO_WEBCHAT_KEY).count() == 1
    assert SmsChannel.objects.get().phone_number == demo.DEMO_SMS_NUMBER
    voice = VoiceChannel.objects.get()
    assert voice.root_menu.options.count() == 5 and voice.menus.count() == 2
    assert EmailChannel.objects.get().address == demo.DEMO_MAILBOX
    assert CustomChannel.objects.count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/admin/channels_ingress/webchatchannel/", "/admin/channels_ingress/smschannel/",
        "/admin/channels_ingress/voicechannel/", "/admin/channels_ingress/ivrmenu/",
        "/admin/channels_ingress/emailchannel/", "/admin/channels_ingress/customchannel/",
        "/admin/channels_ingress/outbounddelivery/", "/admin/channels_ingress/chatfeedback/",
        "/admin/channels_ingress/operatinghours/",
    ],
)
def test_admin_pages_render(admin_client, path):
    demo.seed(io.StringIO())
    assert admin_client.get(path).status_code == 200


def test_admin_shows_the_embed_snippet(admin_client):
    demo.seed(io.StringIO())
    channel = WebChatChannel.objects.get()
    page = admin_client.get(f"/admin/channels_ingress/webchatchannel/{channel.pk}/change/")
    assert page.status_code == 200
    assert f'data-channel="{channel.public_key}"'.encode() in page.content
    menu = VoiceChannel.objects.get().root_menu
    assert admin_client.get(f"/admin/channels_ingress/ivrmenu/{menu.pk}/change/").status_code == 200
