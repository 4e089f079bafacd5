"""The web chat visitor socket (``/ws/webchat/<public key>/``).

Protocol, JSON frames both ways:

* connect with ``?token=<signed visitor token>&last_id=<N>``; the server
  answers ``session.ready`` (the token to keep, the widget's configuration and
  the live conversation) and then every message of that conversation above
  ``last_id`` — a reload or a dropped connection loses nothing;
* the widget sends ``message`` (``body``, ``client_id``, optional ``prechat``
  and ``attachments``), ``typing``, ``read`` (``last_id``), ``resume``
  (``last_id``), ``end`` (optional ``rating`` 1–5 and ``comment``) and, for a
  signed-in customer, ``authenticate`` (``token``: the site's RS256 JWT),
  after which the socket belongs to that customer and starts over with a new
  ``session.ready``; an invalid token gets an ``authentication_failed`` error;
* the server pushes ``message.created`` (with the message), ``message.accepted``
  (the stored id of the visitor's own message), ``typing.started``,
  ``conversation.ended`` and ``error`` (``code``, ``message``).

The socket joins the visitor's group and the group of the live
conversation, so an agent's reply (published by ``crm`` to the conversation)
reaches the visitor without ``crm`` knowing about web chat.
"""

from __future__ import annotations

import json
from collections import deque
from urllib.parse import parse_qs, urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http.request import validate_host

from channels_ingress import selectors
from channels_ingress.services import webchat
from contactcenter.exceptions import DomainError
from contactcenter.realtime import Event, groups
from crm import events as crm_events
from crm.choices import ConversationStatus, SenderKind

#: Close codes: 4403 origin not allowed, 4404 unknown channel.
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_UNKNOWN_CHANNEL = 4404
MAX_FRAME_BYTES = 64 * 1024
MAX_JWT_CHARS = 16 * 1024


def origin_allowed(origin: str, channel) -> bool:
    """An origin the channel lists, or (with no list) one of this site's own hosts."""
    if not origin:
        return False
    if channel.allowed_origins:
        return origin.rstrip("/").lower() in {item.rstrip("/").lower() for item in channel.allowed_origins}
    host = urlparse(origin).hostname or ""
    return validate_host(host, settings.ALLOWED_HOSTS)


def client_ip(scope) -> str:
    client = scope.get("client") or ("", 0)
    return str(client[0] or "")


def _int_or_none(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


class VisitorConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        key = self.scope["url_route"]["kwargs"]["public_key"]
        self.channel_obj = await database_sync_to_async(selectors.webchat_channel_get)(public_key=key)
        if self.channel_obj is None:
            await self.close(code=CLOSE_UNKNOWN_CHANNEL)
            return
        headers = dict(self.scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1")
        if not origin_allowed(origin, self.channel_obj):
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        self.visitor = await database_sync_to_async(webchat.visitor_start)(channel=self.channel_obj, token=token)
        self.ip = client_ip(self.scope)
        self.sent_ids: deque[int] = deque(maxlen=2000)
        self.joined: set[str] = set()
        await self.accept()
        await self.start_session(last_id=_int_or_none((query.get("last_id") or ["0"])[0]) or 0)

    async def start_session(self, *, last_id: int) -> None:
        """Join the visitor's groups, say ``session.ready`` and replay their live chat after ``last_id``."""
        await self._join(self.visitor.group)
        conversation = await database_sync_to_async(selectors.visitor_conversation_live)(
            visitor_id=self.visitor.visitor_id
        )
        self.conversation_id = conversation.pk if conversation else None
        if conversation:
            await self._join(groups.conversation(conversation.pk))
        await self.send_json(
            Event(
                type="session.ready",
                data={
                    # A signed-in customer proves who they are with the site's
                    # token each time; no bearer token of ours is handed out.
                    "token": self.visitor.token or None,
                    "session_token": await database_sync_to_async(webchat.session_token_issue)(visitor=self.visitor),
                    "authenticated": self.visitor.auth is not None,
                    "config": self._config(),
                    "conversation": {"id": conversation.pk, "status": conversation.status} if conversation else None,
                },
            ).as_dict()
        )
        if conversation:
            await self.replay(last_id)

    def _config(self) -> dict:
        channel = self.channel_obj
        return {
            "title": channel.title,
            "subtitle": channel.subtitle,
            "greeting": channel.greeting,
            "logo_url": channel.logo_url,
            "primary_colour": channel.primary_colour,
            "text_colour": channel.text_colour,
            "position": channel.position,
            "prechat": channel.prechat_questions,
            "attachments": channel.attachments_enabled,
            "max_attachment_bytes": channel.max_attachment_bytes,
            "blocked_extensions": channel.blocked_extensions,
            "max_message_chars": channel.max_message_chars,
            "sign_in": bool(channel.auth_public_key),
        }

    async def _join(self, group: str) -> None:
        if group not in self.joined:
            self.joined.add(group)
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code):
        for group in getattr(self, "joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.error("too_large", "The message is too large.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.error("invalid", "Frames must be JSON.")
            return
        if not isinstance(content, dict):
            await self.error("invalid", "Frames must be JSON objects.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        try:
            if kind == "message":
                await self.on_message(content)
            elif kind == "typing":
                await database_sync_to_async(webchat.webchat_visitor_typing)(visitor=self.visitor)
            elif kind == "read":
                last_id = _int_or_none(content.get("last_id"))
                if last_id is not None:
                    await database_sync_to_async(webchat.webchat_messages_read)(visitor=self.visitor, up_to_id=last_id)
            elif kind == "authenticate":
                await self.on_authenticate(content)
            elif kind == "resume":
                await self.replay(_int_or_none(content.get("last_id")) or 0)
            elif kind == "end":
                rating = content.get("rating")
                await database_sync_to_async(webchat.webchat_end)(
                    visitor=self.visitor, rating=rating if rating not in ("", None) else None,
                    comment=str(content.get("comment") or ""),
                )
                self.conversation_id = None
                await self.send_json(Event(type="conversation.ended", data={"by": "customer"}).as_dict())
            else:
                await self.error("invalid", "Unsupported frame.")
        except DomainError as exc:
            await self.error(exc.code, exc.message, client_id=content.get("client_id"))

    async def on_authenticate(self, content: dict) -> None:
        """Switch this socket to the signed-in customer the JWT names, then start over with their chat."""
        token = content.get("token")
        if not isinstance(token, str) or not token or len(token) > MAX_JWT_CHARS:
            await self.error("authentication_failed", "Send the sign-in token as a string.")
            return
        visitor = await database_sync_to_async(webchat.visitor_authenticate)(channel=self.channel_obj, token=token)
        for group in list(self.joined):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined.clear()
        self.sent_ids.clear()
        self.visitor = visitor
        await self.start_session(last_id=0)

    async def on_message(self, content: dict) -> None:
        body = content.get("body", "")
        refs = content.get("attachments") or []
        prechat = content.get("prechat")
        if not isinstance(body, str):
            await self.error("invalid", "The message must be text.")
            return
        result = await database_sync_to_async(webchat.webchat_message_receive)(
            visitor=self.visitor, body=body, client_id=str(content.get("client_id") or ""),
            prechat=prechat if prechat is not None else None, attachment_refs=refs, ip_address=self.ip,
        )
        if self.conversation_id != result.conversation.pk:
            self.conversation_id = result.conversation.pk
            await self._join(groups.conversation(result.conversation.pk))
        await self.send_json(
            Event(
                type="message.accepted",
                id=result.message.pk,
                data={"client_id": content.get("client_id"), "message_id": result.message.pk},
            ).as_dict()
        )
        await self.send_message(result.message)

    async def error(self, code: str, message: str, client_id=None) -> None:
        data = {"code": code, "message": message, "client_id": client_id}
        await self.send_json(Event(type="error", data=data).as_dict())

    async def replay(self, last_id: int) -> None:
        if self.conversation_id is None:
            return
        missed = await database_sync_to_async(selectors.visitor_messages_since)(
            visitor_id=self.visitor.visitor_id, conversation_id=self.conversation_id, after_id=last_id
        )
        for message in missed:
            await self.send_message(message)

    async def send_message(self, message) -> None:
        if message.pk in self.sent_ids:
            return
        self.sent_ids.append(message.pk)
        payload = await database_sync_to_async(selectors.visitor_message_payload)(
            message=message, channel=self.channel_obj
        )
        await self.send_json(
            Event(
                type=crm_events.MESSAGE_CREATED, id=message.pk, ts=message.created_at, data={"message": payload}
            ).as_dict()
        )
        if payload["direction"] == "outbound" and payload["delivery_status"] == "queued":
            await database_sync_to_async(webchat.webchat_message_delivered)(visitor=self.visitor, message_id=message.pk)

    async def realtime_event(self, message):
        event = message["event"]
        kind = event["type"]
        data = event.get("data") or {}
        if kind == crm_events.MESSAGE_CREATED:
            if event.get("id") in self.sent_ids:
                return
            found = await database_sync_to_async(selectors.visitor_message_get)(
                visitor_id=self.visitor.visitor_id, message_id=data.get("message_id")
            )
            if found is not None:
                await self.send_message(found)
        elif kind == "conversation.created" and data.get("conversation_id"):
            self.conversation_id = data["conversation_id"]
            await self._join(groups.conversation(self.conversation_id))
        elif kind == crm_events.CONVERSATION_STATUS_CHANGED and data.get("status") == ConversationStatus.CLOSED:
            if data.get("conversation_id") == self.conversation_id:
                self.conversation_id = None
                await self.send_json(Event(type="conversation.ended", data={"by": "agent"}).as_dict())
        elif kind == "typing.started" and data.get("sender_kind") != SenderKind.CUSTOMER:
            await self.send_json(event)
