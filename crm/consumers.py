"""The agent websocket (``/ws/agent/``): live events for the signed-in staff member.

Events arrive from ``contactcenter.realtime.publish`` carrying ids only; each
is re-read through a selector as the connected user, so a user who may not
see a message gets nothing. A client resumes with ``?last_id=N`` (or a
``{"type": "resume", "last_id": N}`` frame) and first receives every visible
message it missed, oldest first.
"""

from __future__ import annotations

from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.template.loader import render_to_string

from contactcenter.permissions import is_staff_member, is_supervisor
from contactcenter.realtime import Event, groups
from crm import events, live, selectors
from crm.api.serializers import MessageSerializer

REPLAY_LIMIT = 500
#: Events after which the HTML client refreshes its lists ("work-changed").
WORK_CHANGING = frozenset({events.CONVERSATION_ASSIGNED, events.CONVERSATION_STATUS_CHANGED})
#: Close codes: 4401 not signed in, 4403 not a staff member.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def _parse_last_id(value) -> int | None:
    try:
        last_id = int(value)
    except (TypeError, ValueError):
        return None
    return last_id if last_id >= 0 else None


class AgentConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        staff, supervisor = await database_sync_to_async(lambda: (is_staff_member(user), is_supervisor(user)))()
        if not staff:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.sent_ids: deque[int] = deque(maxlen=2000)
        query = dict(pair.split("=", 1) for pair in self.scope["query_string"].decode().split("&") if "=" in pair)
        self.html = query.get("format") == "html"
        self.supervisor = supervisor
        self.subscriptions = [groups.agent(user.pk)] + ([groups.supervisors()] if supervisor else [])
        # Join before replaying: an event committed meanwhile arrives live and
        # is skipped if the replay already sent it.
        for group in self.subscriptions:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        last_id = _parse_last_id(query.get("last_id"))
        if last_id is not None:
            await self.replay(last_id)

    async def disconnect(self, code):
        for group in getattr(self, "subscriptions", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "resume":
            last_id = _parse_last_id(content.get("last_id"))
            if last_id is not None:
                await self.replay(last_id)
                return
        await self.send_json({"type": "error", "data": {"message": "Unsupported frame."}})

    async def replay(self, last_id: int) -> None:
        missed = await database_sync_to_async(selectors.messages_since)(
            user=self.user, after_id=last_id, limit=REPLAY_LIMIT + 1
        )
        if len(missed) > REPLAY_LIMIT:
            # Too far behind to replay; the client reloads like a fresh start.
            await self.send_json(Event(type="resync.required", data={"last_id": last_id}).as_dict())
            return
        for message in missed:
            await self.send_message(message)

    async def realtime_event(self, message):
        event = message["event"]
        if event["type"] == events.MESSAGE_CREATED:
            if event["id"] in self.sent_ids:
                return
            found = await database_sync_to_async(selectors.message_get)(
                user=self.user, message_id=event["data"]["message_id"]
            )
            if found is not None:
                await self.send_message(found)
            return
        if self.html and live.has_renderers(event["type"]):
            # Contributed fragments (crm.live) re-read and check visibility themselves: an
            # offer or a consult invitation concerns a conversation that is not yet the user's.
            html = await database_sync_to_async(live.fragments_render)(user=self.user, event=event)
            if html:
                await self.send(text_data=html)
            return
        if self.html and event["type"] in WORK_CHANGING and await self.concerns_me(event):
            # Only a nudge (no data), also to an agent who just lost the conversation:
            # My work and the other work panels re-fetch themselves.
            await self.send(text_data=render_to_string("crm/partials/_work_changed_oob.html"))
        conversation_id = event["data"].get("conversation_id")
        if conversation_id is not None:
            visible = await database_sync_to_async(selectors.conversation_get)(
                user=self.user, conversation_id=conversation_id
            )
            if visible is None:
                return
        if not self.html:
            await self.send_json(event)
        elif event["type"] == events.NOTIFICATION_CREATED:
            await self.send(text_data=await database_sync_to_async(self.render_notification)(event))

    async def concerns_me(self, event: dict) -> bool:
        """Agents hear only their own group; a supervisor (who hears every conversation) only about their own."""
        if not self.supervisor:
            return True
        data = event["data"]
        if self.user.pk in (data.get("agent_id"), data.get("previous_agent_id")):
            return True
        if event["type"] != events.CONVERSATION_STATUS_CHANGED:
            return False
        found = await database_sync_to_async(selectors.conversation_get)(
            user=self.user, conversation_id=data["conversation_id"]
        )
        return found is not None and found.assigned_agent_id == self.user.pk

    def render_notification(self, event: dict) -> str:
        # Published only to the recipient's own group, so nothing to re-check but the count.
        unread = selectors.unread_notification_count(user=self.user)
        return render_to_string("crm/partials/_notification_oob.html", {"event": event, "unread_notifications": unread})

    async def send_message(self, message) -> None:
        if message.pk in self.sent_ids:
            return
        self.sent_ids.append(message.pk)
        if self.html:
            html = await database_sync_to_async(render_to_string)(
                "crm/partials/_message_oob.html", {"message": message}
            )
            await self.send(text_data=html)
            return
        event = events.message_created(message)
        payload = event.as_dict()
        payload["data"]["message"] = MessageSerializer(message).data
        await self.send_json(payload)
