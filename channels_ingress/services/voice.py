"""Voice and IVR: each call is a voice conversation; its IVR path, voicemails and transcripts are messages.

The telephony provider keeps the media. These services record what the
caller did and decide the next step; ``channels_ingress.twiml`` renders
the step as TwiML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from channels_ingress.choices import IvrAction
from channels_ingress.exceptions import InvalidInput
from channels_ingress.models import IvrMenu, IvrOption, VoiceChannel
from channels_ingress.services import InboundMessage, inbound_receive
from crm.choices import ActivityKind, ChannelKind, ConversationStatus, SenderKind
from crm.models import Conversation
from crm.services import IngestResult, activity_create, message_send
from crm.validators import normalize_phone
from knowledge.services import search

MAX_SPEECH_CHARS = 500
MAX_TRANSCRIPT_CHARS = 10000
MAX_SPOKEN_ANSWER_CHARS = 400
NO_ANSWER = "Sorry, I could not find an answer to that. Please choose another option or hold for an agent."


@dataclass(frozen=True)
class CallStep:
    """What the caller hears next: the menu to offer, or the option they chose (None: not understood)."""

    conversation: Conversation
    open: bool = True
    menu: IvrMenu | None = None
    option: IvrOption | None = None
    #: What a knowledge option speaks.
    answer: str = ""


def _call_fields(params: dict[str, str]) -> tuple[str, str]:
    call_sid = params.get("CallSid", "")
    if not call_sid or len(call_sid) > 64:
        raise InvalidInput("CallSid is missing.")
    try:
        caller = normalize_phone(params.get("From", ""))
    except ValidationError as exc:
        raise InvalidInput("From is not a valid phone number.") from exc
    return call_sid, caller


def _record(
    *, channel: VoiceChannel, params: dict[str, str], body: str, step_id: str, context: dict | None = None,
    needs_person: bool = False, attachments: list | None = None,
) -> IngestResult:
    call_sid, caller = _call_fields(params)
    return inbound_receive(
        inbound=InboundMessage(
            channel_kind=ChannelKind.VOICE,
            address=caller,
            body=body,
            channel_ref=channel.phone_number,
            provider_message_id=f"{call_sid}:{step_id}"[:255],
            attachments=attachments or [],
            context={"call_sid": call_sid, **(context or {})},
            metadata={"call_sid": call_sid, "ivr_step": step_id},
            needs_person=needs_person,
        )
    )


def voice_call_start(*, channel: VoiceChannel, params: dict[str, str]) -> CallStep:
    """An incoming call: open (or continue) the caller's voice conversation and pick the first step.

    Outside the channel's operating hours the caller is offered voicemail.
    Side effects: as ``inbound_receive`` (the message "Incoming call").
    """
    is_open = channel.operating_hours is None or channel.operating_hours.is_open()
    result = _record(
        channel=channel, params=params, step_id="start",
        body="Incoming call" if is_open else "Incoming call outside operating hours",
        context={"ivr_path": []},
    )
    return CallStep(conversation=result.conversation, open=is_open, menu=channel.root_menu if is_open else None)


def _option_matching(menu: IvrMenu, digits: str, speech: str) -> IvrOption | None:
    options = list(menu.options.all())
    if digits:
        return next((option for option in options if option.dtmf == digits), None)
    words = speech.lower()
    for option in options:
        if any(keyword.lower() in words for keyword in option.speech_keywords if keyword):
            return option
    return None


def voice_menu_choice(*, channel: VoiceChannel, menu: IvrMenu, params: dict[str, str]) -> CallStep:
    """The caller pressed keys (``Digits``) or spoke (``SpeechResult``) in a menu.

    Records the step and the path so far on the conversation. A queue
    choice or a callback request hands the call to routing (with the
    option's queue, skills and priority in the context); a callback also
    schedules a phone-call activity; a knowledge answer is recorded as the
    bot's reply. Side effects: Message, TimelineEvent, Activity (callback).
    """
    digits = (params.get("Digits") or "").strip()[:8]
    speech = (params.get("SpeechResult") or "").strip()[:MAX_SPEECH_CHARS]
    option = _option_matching(menu, digits, speech)
    # The knowledge search (an embedding and two index scans) runs before the
    # transaction, so it never holds the caller's identity lock.
    answer = ""
    if option is not None and option.action == IvrAction.KNOWLEDGE:
        answer = option.answer_text or knowledge_answer(question=speech or option.label)
    said = f"pressed {digits}" if digits else (f"said \u201c{speech}\u201d" if speech else "gave no answer")
    with transaction.atomic():
        conversation = _live_call(channel=channel, params=params)
        path = list((conversation.context or {}).get("ivr_path", [])) if conversation else []
        if option is None:
            body = f"{menu.name}: caller {said} (not understood)"
            context = {}
        else:
            path.append(option.label)
            body = f"{menu.name}: caller {said} \u2192 {option.label}"
            context = {"ivr_path": path}
        routed = option is not None and option.action in (IvrAction.QUEUE, IvrAction.CALLBACK)
        if routed:
            context.update(
                queue_id=option.queue_id, skills=option.skills, priority=option.priority,
                callback_requested=option.action == IvrAction.CALLBACK,
            )
        result = _record(
            channel=channel, params=params, body=body, context=context, needs_person=routed,
            step_id=f"menu{menu.pk}:{len(path)}:{digits or speech[:40] or '-'}",
        )
        if result.created and option is not None:
            if option.action == IvrAction.KNOWLEDGE:
                message_send(conversation=result.conversation, sender=None, body=answer, sender_kind=SenderKind.BOT)
            elif option.action == IvrAction.CALLBACK:
                activity_create(
                    actor=None, kind=ActivityKind.PHONE_CALL, contact=result.conversation.contact,
                    subject=f"Call back {result.conversation.identity.address}",
                    description=f"Requested in the IVR of {channel.name}.",
                )
    return CallStep(conversation=result.conversation, option=option, menu=menu, answer=answer)


def knowledge_answer(*, question: str) -> str:
    """A short spoken answer from the best published external article for ``question``."""
    hits = search(question, k=1, user=None)
    if not hits:
        return NO_ANSWER
    hit = hits[0]
    text = hit.article.summary or hit.passage_text
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    spoken = ""
    for sentence in sentences:
        if spoken and len(spoken) + len(sentence) > MAX_SPOKEN_ANSWER_CHARS:
            break
        spoken = f"{spoken} {sentence}".strip()
    return f"{hit.article.title}. {spoken[:MAX_SPOKEN_ANSWER_CHARS]}"


def _live_call(*, channel: VoiceChannel, params: dict[str, str]) -> Conversation | None:
    _call_sid, caller = _call_fields(params)
    return (
        Conversation.objects.filter(
            channel_kind=ChannelKind.VOICE, identity__kind=ChannelKind.VOICE, identity__address=caller,
        )
        .exclude(status=ConversationStatus.CLOSED)
        .first()
    )


def voice_recording_receive(*, channel: VoiceChannel, params: dict[str, str]) -> IngestResult:
    """A voicemail was recorded: store it (its URL stays with the provider) and hand it to a person."""
    recording_sid = params.get("RecordingSid", "")
    url = params.get("RecordingUrl", "")
    if not recording_sid or not url.startswith("https://"):
        raise InvalidInput("RecordingSid and an https RecordingUrl are required.")
    duration = params.get("RecordingDuration", "")
    return _record(
        channel=channel, params=params, step_id=f"recording:{recording_sid}", needs_person=True,
        body=f"Voicemail ({duration} s)" if duration.isdigit() else "Voicemail",
        attachments=[{"name": "voicemail", "content_type": "audio/wav", "url": url}],
        context={"voicemail": True},
    )


def voice_transcription_receive(*, channel: VoiceChannel, params: dict[str, str]) -> IngestResult | None:
    """The provider transcribed a voicemail: store the transcript as a message of the call."""
    if (params.get("TranscriptionStatus") or "completed") != "completed":
        return None
    sid = params.get("TranscriptionSid", "")
    text = (params.get("TranscriptionText") or "").strip()
    if not sid or not text:
        raise InvalidInput("TranscriptionSid and TranscriptionText are required.")
    return _record(
        channel=channel, params=params, step_id=f"transcription:{sid}",
        body=f"Voicemail transcript: {text[:MAX_TRANSCRIPT_CHARS]}",
        attachments=[{"name": "voicemail", "content_type": "audio/wav", "url": params["RecordingUrl"]}]
        if params.get("RecordingUrl", "").startswith("https://") else [],
    )
