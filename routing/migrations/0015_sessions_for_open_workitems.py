"""E.69 for existing data: every open work item gets one open session, joined by its open consults."""

from django.db import migrations
from django.db.models import Exists, OuterRef

OPEN = ["queued", "offered", "assigned"]


def open_sessions(apps, schema_editor):
    WorkItem = apps.get_model("routing", "WorkItem")
    ConversationSession = apps.get_model("routing", "ConversationSession")
    Participant = apps.get_model("routing", "Participant")
    has_open = ConversationSession.objects.filter(conversation_id=OuterRef("conversation_id"), ended_at__isnull=True)
    items = WorkItem.objects.filter(status__in=OPEN).exclude(Exists(has_open))
    for item in items.iterator():
        session = ConversationSession.objects.create(
            conversation_id=item.conversation_id, workitem=item, queue_id=item.queue_id, agent_id=item.agent_id,
            started_at=item.queued_at,
        )
        Participant.objects.filter(workitem=item, left_at__isnull=True, session__isnull=True).update(session=session)


class Migration(migrations.Migration):
    dependencies = [("routing", "0014_conversation_sessions")]

    operations = [migrations.RunPython(open_sessions, migrations.RunPython.noop)]
