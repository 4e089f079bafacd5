"""TwiML for the IVR, rendered from the step the voice services decided (interface code, no rules)."""

from __future__ import annotations

from django.urls import reverse
from twilio.twiml.voice_response import Gather, VoiceResponse

from channels_ingress.choices import IvrAction
from channels_ingress.models import IvrMenu, VoiceChannel
from channels_ingress.services.voice import CallStep

MAX_MENU_RETRIES = 3
VOICEMAIL_MAX_SECONDS = 120


def _say(node, channel: VoiceChannel, text: str) -> None:
    node.say(text, voice=channel.voice, language=channel.language)


def menu(
    channel: VoiceChannel, ivr_menu: IvrMenu, *, retry: int = 0, response: VoiceResponse | None = None
) -> VoiceResponse:
    response = response or VoiceResponse()
    options = list(ivr_menu.options.all())
    action = reverse("channels_ingress:twilio_voice_menu", args=[ivr_menu.pk]) + f"?retry={retry}"
    gather = Gather(
        input="dtmf speech", action=action, method="POST", timeout=ivr_menu.timeout_seconds,
        num_digits=max((len(option.dtmf) for option in options if option.dtmf), default=1),
        hints=", ".join(keyword for option in options for keyword in option.speech_keywords)[:1000] or None,
        language=channel.language,
    )
    _say(gather, channel, ivr_menu.prompt)
    response.append(gather)
    # No answer at all: Twilio falls through to here.
    response.redirect(action.replace(f"retry={retry}", f"retry={retry + 1}") + "&silent=1", method="POST")
    return response


def voicemail(channel: VoiceChannel, prompt: str, response: VoiceResponse | None = None) -> VoiceResponse:
    response = response or VoiceResponse()
    _say(response, channel, prompt)
    response.record(
        action=reverse("channels_ingress:twilio_voice_recording"), method="POST", max_length=VOICEMAIL_MAX_SECONDS,
        play_beep=True, transcribe=True, transcribe_callback=reverse("channels_ingress:twilio_voice_transcription"),
    )
    _say(response, channel, "We did not receive a recording. Goodbye.")
    response.hangup()
    return response


def call_start(channel: VoiceChannel, step: CallStep) -> str:
    if not step.open:
        return str(voicemail(channel, channel.closed_message))
    if step.menu is None:
        return str(voicemail(channel, "Please leave a message after the tone."))
    return str(menu(channel, step.menu))


def choice(channel: VoiceChannel, step: CallStep, *, retry: int) -> str:
    option = step.option
    response = VoiceResponse()
    if option is None:
        if retry + 1 >= MAX_MENU_RETRIES:
            prompt = "Sorry, I could not understand. Please leave a message after the tone."
            return str(voicemail(channel, prompt, response))
        _say(response, channel, "Sorry, I did not get that.")
        return str(menu(channel, step.menu, retry=retry + 1, response=response))
    if option.action == IvrAction.QUEUE:
        _say(response, channel, "Please hold while we connect you to an agent.")
        response.enqueue(option.queue.name if option.queue else "support")
    elif option.action == IvrAction.KNOWLEDGE:
        _say(response, channel, step.answer)
        response.pause(length=1)
        return str(menu(channel, step.menu, response=response))
    elif option.action == IvrAction.SUBMENU and option.submenu is not None:
        return str(menu(channel, option.submenu, response=response))
    elif option.action == IvrAction.CALLBACK:
        _say(response, channel, "Thank you. We will call you back at this number as soon as an agent is free. Goodbye.")
        response.hangup()
    else:
        return str(voicemail(channel, "Please leave a message after the tone.", response))
    return str(response)


def goodbye(channel: VoiceChannel) -> str:
    response = VoiceResponse()
    _say(response, channel, "Thank you for your message. Goodbye.")
    response.hangup()
    return str(response)
