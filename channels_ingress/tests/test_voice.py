"""Voice/IVR in Twilio's wire format: signed webhooks in, TwiML out, every step stored on the call."""

import urllib.parse
from datetime import time, timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from channels_ingress.choices import IvrAction
from channels_ingress.models import IvrMenu, IvrOption, OperatingHours, VoiceChannel
from crm.models import Activity, Conversation, Message
from knowledge.tests.factories import make_article
from routing import services as routing_services
from routing.choices import QueueKind
from routing.models import Queue, WorkItem, WorkStream
from routing.services.sweep import ROUTING_RETRY_AFTER_SECONDS

pytestmark = pytest.mark.django_db

NUMBER = "+15005550007"
TOKEN = "voice-auth-token-0123456789abcdef"
CALLER = "+14155550199"


@pytest.fixture
def ivr(db):
    hours = OperatingHours.objects.create(name="Always", weekdays=list(range(7)), opens_at=time(0), closes_at=time(23, 59, 59))
    channel = VoiceChannel.objects.create(name="Hotline", phone_number=NUMBER, account_sid="AC" + "2" * 32,
                                          auth_token=TOKEN, operating_hours=hours)
    main = IvrMenu.objects.create(channel=channel, name="Main", prompt="For orders press 1.")
    tech = IvrMenu.objects.create(channel=channel, name="Tech", prompt="For laptops press 1.")
    queue = Queue.objects.create(name="Orders")
    IvrOption.objects.bulk_create([
        IvrOption(menu=main, dtmf="1", speech_keywords=["order"], label="Orders", action=IvrAction.QUEUE,
                  queue=queue, skills=["orders"], priority=1),
        IvrOption(menu=main, dtmf="2", label="Hours", action=IvrAction.KNOWLEDGE, answer_text="We are open 8 to 8."),
        IvrOption(menu=main, dtmf="3", label="Tech", action=IvrAction.SUBMENU, submenu=tech),
        IvrOption(menu=main, dtmf="4", label="Voicemail", action=IvrAction.VOICEMAIL),
        IvrOption(menu=main, dtmf="5", label="Callback", action=IvrAction.CALLBACK),
    ])
    channel.root_menu = main
    channel.save()
    return channel


def call(client, path, **extra):
    params = {"CallSid": "CA" + "c" * 32, "AccountSid": "AC" + "2" * 32, "From": CALLER, "To": NUMBER,
              "CallStatus": "in-progress", **extra}
    signature = RequestValidator(TOKEN).compute_signature("http://testserver" + path, params)
    return client.post(path, urllib.parse.urlencode(params), content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": signature})


def twiml(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)


def menu_url(ivr, name="Main", retry=0):
    return f"/channels/twilio/voice/menu/{ivr.menus.get(name=name).pk}/?retry={retry}"


def test_incoming_call_opens_a_voice_conversation_and_offers_the_menu(client, ivr):
    root = twiml(call(client, "/channels/twilio/voice/"))
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf speech"
    assert gather.get("action") == menu_url(ivr)
    assert gather.find("Say").text == "For orders press 1."
    conversation = Conversation.objects.get()
    assert conversation.channel_kind == "voice" and conversation.contact.phone == CALLER
    assert conversation.context["call_sid"] == "CA" + "c" * 32
    assert Message.objects.get().body == "Incoming call"


def test_pressing_a_queue_option_enqueues_the_call_and_records_the_path(client, ivr):
    call(client, "/channels/twilio/voice/")
    root = twiml(call(client, menu_url(ivr), Digits="1"))
    assert root.find("Enqueue").text == "Orders"
    conversation = Conversation.objects.get()
    assert conversation.context["ivr_path"] == ["Orders"]
    assert conversation.context["skills"] == ["orders"] and conversation.context["priority"] == 1
    assert Message.objects.last().body == "Main: caller pressed 1 \u2192 Orders"


def test_speech_chooses_by_keyword(client, ivr):
    call(client, "/channels/twilio/voice/")
    root = twiml(call(client, menu_url(ivr), SpeechResult="I want to check my order please"))
    assert root.find("Enqueue") is not None
    assert "said \u201cI want to check my order please\u201d" in Message.objects.last().body


def test_submenu_and_knowledge_answer(client, ivr):
    call(client, "/channels/twilio/voice/")
    root = twiml(call(client, menu_url(ivr), Digits="3"))
    assert root.find("Gather/Say").text == "For laptops press 1."
    root = twiml(call(client, menu_url(ivr), Digits="2"))
    assert root.find("Say").text == "We are open 8 to 8."
    bot = Message.objects.filter(sender_kind="bot").get()
    assert bot.body == "We are open 8 to 8."
    assert Conversation.objects.get().context["ivr_path"] == ["Tech", "Hours"]


def test_voicemail_recording_and_transcription_become_messages(client, ivr):
    call(client, "/channels/twilio/voice/")
    root = twiml(call(client, menu_url(ivr), Digits="4"))
    record = root.find("Record")
    assert record.get("transcribe") == "true"
    assert record.get("transcribeCallback") == "/channels/twilio/voice/transcription/"
    recording = {"RecordingSid": "RE" + "1" * 32, "RecordingUrl": "https://api.twilio.com/rec/RE1",
                 "RecordingDuration": "14"}
    root = twiml(call(client, "/channels/twilio/voice/recording/", **recording))
    assert root.find("Hangup") is not None
    voicemail = Message.objects.get(body="Voicemail (14 s)")
    assert voicemail.attachments[0]["url"] == "https://api.twilio.com/rec/RE1"
    response = call(client, "/channels/twilio/voice/transcription/", TranscriptionSid="TR" + "1" * 32,
                    TranscriptionText="Hi, my laptop will not charge.", TranscriptionStatus="completed", **recording)
    assert response.status_code == 204
    assert Message.objects.filter(body="Voicemail transcript: Hi, my laptop will not charge.").count() == 1
    call(client, "/channels/twilio/voice/transcription/", TranscriptionSid="TR" + "1" * 32,
         TranscriptionText="Hi, my laptop will not charge.", TranscriptionStatus="completed", **recording)
    assert Message.objects.filter(body__startswith="Voicemail transcript").count() == 1


def test_callback_request_schedules_a_call_activity(client, ivr):
    call(client, "/channels/twilio/voice/")
    root = twiml(call(client, menu_url(ivr), Digits="5"))
    assert root.find("Hangup") is not None
    activity = Activity.objects.get()
    assert activity.kind == "phone_call" and activity.subject == f"Call back {CALLER}"
    assert Conversation.objects.get().context["callback_requested"] is True


def test_unknown_choice_repeats_then_falls_back_to_voicemail(client, ivr):
    call(client, "/channels/twilio/voice/")
    root = twiml(call(client, menu_url(ivr), Digits="9"))
    assert root.find("Say").text == "Sorry, I did not get that."
    assert root.find("Gather").get("action") == menu_url(ivr, retry=1)
    root = twiml(call(client, menu_url(ivr, retry=2), Digits="8"))
    assert root.find("Record") is not None
    assert "(not understood)" in Message.objects.last().body


def test_outside_operating_hours_the_caller_gets_the_closed_message_and_voicemail(client, ivr):
    OperatingHours.objects.update(weekdays=[])
    root = twiml(call(client, "/channels/twilio/voice/"))
    assert root.find("Say").text == ivr.closed_message
    assert root.find("Record") is not None and root.find("Gather") is None
    assert Message.objects.get().body == "Incoming call outside operating hours"


def test_bad_requests_are_refused_and_store_nothing(client, ivr):
    params = {"CallSid": "CA1", "From": CALLER, "To": NUMBER}
    body = urllib.parse.urlencode(params)
    form = "application/x-www-form-urlencoded"
    assert client.post("/channels/twilio/voice/", body, content_type=form,
                       headers={"X-Twilio-Signature": "forged"}).status_code == 403
    assert client.post("/channels/twilio/voice/", body, content_type=form).status_code == 403
    assert call(client, "/channels/twilio/voice/", To="+15005550009").status_code == 404
    assert client.post("/channels/twilio/voice/", "{}", content_type="application/json").status_code == 415
    oversized = client.post("/channels/twilio/voice/", "Digits=" + "1" * 70000, content_type=form)
    assert oversized.status_code == 413
    other = VoiceChannel.objects.create(name="Other", phone_number="+15005550008", account_sid="AC3", auth_token="x")
    foreign = IvrMenu.objects.create(channel=other, name="Other", prompt="Other")
    assert call(client, f"/channels/twilio/voice/menu/{foreign.pk}/", Digits="1").status_code == 404
    assert call(client, "/channels/twilio/voice/", From="anonymous").status_code == 400
    assert call(client, "/channels/twilio/voice/recording/", RecordingSid="RE1", RecordingUrl="http://evil").status_code == 400
    assert Message.objects.count() == 0


def test_knowledge_option_without_a_fixed_answer_speaks_the_best_article(client, ivr, agent, supervisor):
    make_article(
        author=agent, manager=supervisor, title="Pair your Northwind AirBeats earbuds",
        summary="Put both earbuds in the case, hold the button for ten seconds until the light flashes white.",
        body="## Steps\nPut both earbuds in the case and hold the button for ten seconds.",
    )
    IvrOption.objects.create(menu=ivr.root_menu, dtmf="6", speech_keywords=["earbuds"], label="Earbuds help",
                             action=IvrAction.KNOWLEDGE)
    call(client, "/channels/twilio/voice/")

    root = twiml(call(client, menu_url(ivr), SpeechResult="my earbuds will not pair with my phone"))

    spoken = " ".join(say.text for say in root.iter("Say"))
    assert "Pair your Northwind AirBeats earbuds" in spoken and "hold the button for ten seconds" in spoken
    bot = Message.objects.get(sender_kind="bot")
    assert bot.body.startswith("Pair your Northwind AirBeats earbuds.")


def test_knowledge_option_says_so_when_nothing_matches(client, ivr):
    IvrOption.objects.create(menu=ivr.root_menu, dtmf="6", label="Warranty questions", action=IvrAction.KNOWLEDGE)
    call(client, "/channels/twilio/voice/")

    root = twiml(call(client, menu_url(ivr), Digits="6"))

    assert "could not find an answer" in " ".join(say.text for say in root.iter("Say"))


def test_ivr_steps_are_never_flagged_for_routing_until_the_caller_chooses_a_queue(client, ivr):
    voice_queue = Queue.objects.create(name="Voice", kind=QueueKind.VOICE)
    WorkStream.objects.create(name="Voice", channel_kind="voice", kind=QueueKind.VOICE, fallback_queue=voice_queue)
    later = timezone.now() + timedelta(seconds=ROUTING_RETRY_AFTER_SECONDS + 1)
    call(client, "/channels/twilio/voice/")
    twiml(call(client, menu_url(ivr), Digits="3"))
    twiml(call(client, menu_url(ivr), Digits="2"))

    assert routing_services.routing_sweep(now=later).routing_retried == 0
    assert not Conversation.objects.get().needs_routing and not WorkItem.objects.exists()

    twiml(call(client, menu_url(ivr), Digits="1"))  # its after-commit hand-off never runs in this test
    assert Conversation.objects.get().needs_routing
    assert routing_services.routing_sweep(now=later).routing_retried == 1
    assert WorkItem.objects.get().conversation == Conversation.objects.get()
