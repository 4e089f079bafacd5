"""HTTP interface of the channels: provider webhooks, web chat uploads and the demo page (all thin)."""

from __future__ import annotations

import hmac
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from channels_ingress import selectors, twiml
from channels_ingress.adapters import twilio
from channels_ingress.consumers import origin_allowed
from channels_ingress.demo import DEMO_WEBCHAT_KEY
from channels_ingress.exceptions import AttachmentRejected, InvalidInput
from channels_ingress.services import attachments, email, sms, voice, webchat
from crm.validators import normalize_phone


def _json_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


@login_not_required
@require_GET
def demo_webchat(request: HttpRequest) -> HttpResponse:
    """A fake shop page that embeds the widget, so anyone can play the customer."""
    return render(request, "channels_ingress/demo_webchat.html", {"public_key": DEMO_WEBCHAT_KEY})


def _cors(response: HttpResponse, origin: str, methods: str = "POST, OPTIONS") -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = "X-Visitor-Token"
        response["Access-Control-Allow-Methods"] = methods
        response["Access-Control-Expose-Headers"] = "Content-Disposition"
        response["Vary"] = "Origin"
    return response


@login_not_required
@csrf_exempt
def webchat_attachment_upload(request: HttpRequest, public_key: str) -> HttpResponse:
    """``POST`` one file (multipart field ``file``) with the visitor's token in ``X-Visitor-Token``.

    Authenticated by the signed visitor token, not a cookie, hence no CSRF token.
    """
    channel = selectors.webchat_channel_get(public_key=public_key)
    if channel is None:
        return _json_error("unknown_channel", "Unknown chat channel.", 404)
    origin = request.headers.get("Origin", "")
    if origin and not origin_allowed(origin, channel):
        return _json_error("origin_not_allowed", "This site may not use the chat.", 403)
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    if request.method != "POST":
        return _cors(_json_error("method_not_allowed", "Use POST.", 405), origin)
    visitor = webchat.visitor_from_token(channel=channel, token=request.headers.get("X-Visitor-Token", ""))
    if visitor is None:
        return _cors(_json_error("bad_token", "Start the chat before attaching files.", 403), origin)
    if not request.content_type.startswith("multipart/form-data"):
        return _cors(_json_error("unsupported_media_type", "Send the file as multipart/form-data.", 415), origin)
    upload = request.FILES.get("file")
    if upload is None:
        return _cors(_json_error("invalid", "No file was sent.", 400), origin)
    try:
        stored = webchat.webchat_attachment_store(
            visitor=visitor, upload=upload, name=upload.name, content_type=upload.content_type or ""
        )
    except AttachmentRejected as exc:
        return _cors(_json_error(exc.code, exc.message, 422), origin)
    return _cors(JsonResponse(stored, status=201), origin)


@login_not_required
@require_GET
def attachment_download(request: HttpRequest, ref: str) -> HttpResponse:
    """A file attached to a chat; the signed ref in the URL is the permission to read it."""
    found = attachments.attachment_open(ref=ref)
    if found is None:
        raise Http404
    handle, data = found
    response = FileResponse(handle, as_attachment=True, filename=data["n"], content_type=data["t"])
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


# --- Twilio webhooks -----------------------------------------------------------

TWILIO_MAX_BODY_BYTES = 64 * 1024
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _twiml(xml: str, status: int = 200) -> HttpResponse:
    return HttpResponse(xml, content_type="text/xml; charset=utf-8", status=status)


def twilio_webhook(find_channel):
    """Decorate a Twilio webhook view: POST form only, size-limited, channel found, signature valid.

    ``find_channel(params)`` names the channel whose auth token signs the
    request; a bad or missing ``X-Twilio-Signature`` answers 403 before
    anything is stored.
    """

    def decorator(view):
        @login_not_required
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method != "POST":
                return _json_error("method_not_allowed", "Use POST.", 405)
            if int(request.headers.get("Content-Length") or 0) > TWILIO_MAX_BODY_BYTES:
                return _json_error("too_large", "The request body is too large.", 413)
            if request.content_type != FORM_CONTENT_TYPE:
                return _json_error("unsupported_media_type", f"Send {FORM_CONTENT_TYPE}.", 415)
            params = {key: request.POST.get(key) for key in request.POST}
            channel = find_channel(params)
            if channel is None:
                return _json_error("unknown_channel", "No channel has this number.", 404)
            if not twilio.signature_valid(
                auth_token=channel.signing_token, url=request.build_absolute_uri(), params=params,
                signature=request.headers.get("X-Twilio-Signature", ""),
            ):
                return _json_error("bad_signature", "The X-Twilio-Signature is missing or wrong.", 403)
            try:
                return view(request, channel, params, *args, **kwargs)
            except InvalidInput as exc:
                return _json_error(exc.code, exc.message, 400)

        return wrapper

    return decorator


def _number(params: dict[str, str], name: str) -> str:
    try:
        return normalize_phone(params.get(name) or "")
    except ValidationError:
        return ""


@twilio_webhook(lambda params: selectors.sms_channel_for_number(number=_number(params, "To")))
def twilio_sms(request, channel, params):
    """Twilio Messaging webhook: store the SMS, answer empty TwiML (the agent replies later)."""
    sms.sms_receive(channel=channel, params=params)
    return _twiml(twilio.empty_messaging_response())


@twilio_webhook(lambda params: selectors.sms_channel_for_number(number=_number(params, "From")))
def twilio_sms_status(request, channel, params):
    """Twilio status callback for a message we sent (our number is ``From``)."""
    sms.sms_status_receive(params=params)
    return HttpResponse(status=204)


def _voice_channel(params: dict[str, str]):
    return selectors.voice_channel_for_number(number=_number(params, "To"))


def _retry(request) -> int:
    try:
        return max(0, min(int(request.GET.get("retry", 0)), 10))
    except ValueError:
        return 0


@twilio_webhook(_voice_channel)
def twilio_voice(request, channel, params):
    """Twilio Voice webhook for an incoming call: the IVR's first menu, or voicemail when closed."""
    step = voice.voice_call_start(channel=channel, params=params)
    return _twiml(twiml.call_start(channel, step))


@twilio_webhook(_voice_channel)
def twilio_voice_menu(request, channel, params, menu_id: int):
    """The caller answered a menu (``Digits`` or ``SpeechResult``)."""
    menu = channel.menus.filter(pk=menu_id).first()
    if menu is None:
        return _json_error("unknown_menu", "No such menu on this number.", 404)
    step = voice.voice_menu_choice(channel=channel, menu=menu, params=params)
    return _twiml(twiml.choice(channel, step, retry=_retry(request)))


@twilio_webhook(_voice_channel)
def twilio_voice_recording(request, channel, params):
    """``<Record action>``: the voicemail is stored; the caller hears goodbye."""
    voice.voice_recording_receive(channel=channel, params=params)
    return _twiml(twiml.goodbye(channel))


@twilio_webhook(_voice_channel)
def twilio_voice_transcription(request, channel, params):
    """``transcribeCallback``: the voicemail's transcript becomes a message."""
    voice.voice_transcription_receive(channel=channel, params=params)
    return HttpResponse(status=204)


# --- Email ------------------------------------------------------------------------

MIME_CONTENT_TYPE = "message/rfc822"


@login_not_required
@csrf_exempt
def email_inbound(request: HttpRequest, channel_id: int) -> HttpResponse:
    """A mail relay POSTs one raw message: ``message/rfc822`` body, or multipart form with a ``mime`` field.

    Authenticated by ``Authorization: Bearer <the channel's inbound secret>``.
    """
    if request.method != "POST":
        return _json_error("method_not_allowed", "Use POST.", 405)
    channel = selectors.email_channel_get(channel_id=channel_id)
    if channel is None:
        return _json_error("unknown_channel", "No such mailbox.", 404)
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not hmac.compare_digest(secret.strip().encode(), channel.inbound_secret.encode()):
        return _json_error("bad_secret", "The inbound secret is missing or wrong.", 403)
    if int(request.headers.get("Content-Length") or 0) > channel.max_message_bytes:
        return _json_error("too_large", "The message is larger than this mailbox accepts.", 413)
    try:
        if request.content_type == MIME_CONTENT_TYPE:
            raw = request.body
        elif request.content_type == "multipart/form-data":
            upload = request.FILES.get("mime")
            raw = upload.read() if upload is not None else request.POST.get("mime", "").encode()
            if not raw:
                return _json_error("invalid", "The form has no 'mime' field.", 400)
        else:
            return _json_error("unsupported_media_type", "Send message/rfc822 or multipart/form-data.", 415)
    except RequestDataTooBig:
        return _json_error("too_large", "The message is too large.", 413)
    if len(raw) > channel.max_message_bytes:
        return _json_error("too_large", "The message is larger than this mailbox accepts.", 413)
    try:
        outcome = email.email_receive(channel=channel, raw=raw)
    except InvalidInput as exc:
        return _json_error(exc.code, exc.message, 400)
    body = {"status": outcome.status, "reason": outcome.reason}
    if outcome.result is not None:
        body.update(message_id=outcome.result.message.pk, conversation_id=outcome.result.conversation.pk)
    return JsonResponse(body, status=202 if outcome.status == "stored" else 200)


@login_not_required
@csrf_exempt
def webchat_transcript(request: HttpRequest, public_key: str) -> HttpResponse:
    """``GET`` the visitor's latest chat as a text file; the visitor token comes in ``X-Visitor-Token``."""
    channel = selectors.webchat_channel_get(public_key=public_key)
    if channel is None:
        return _json_error("unknown_channel", "Unknown chat channel.", 404)
    origin = request.headers.get("Origin", "")
    if origin and not origin_allowed(origin, channel):
        return _json_error("origin_not_allowed", "This site may not use the chat.", 403)
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin, methods="GET, OPTIONS")
    if request.method != "GET":
        return _cors(_json_error("method_not_allowed", "Use GET.", 405), origin)
    visitor = webchat.visitor_from_token(channel=channel, token=request.headers.get("X-Visitor-Token", ""))
    if visitor is None:
        return _cors(_json_error("bad_token", "No chat to download.", 403), origin)
    text = selectors.visitor_transcript(visitor_id=visitor.visitor_id, channel=channel)
    if not text:
        return _cors(_json_error("no_conversation", "No chat to download.", 404), origin)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="chat-transcript.txt"'
    response["Cache-Control"] = "no-store"
    return _cors(response, origin, methods="GET, OPTIONS")
