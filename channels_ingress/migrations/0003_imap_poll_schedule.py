"""Beat polls the IMAP mailboxes every minute."""

from django.db import migrations

POLL_TASK_NAME = "channels_ingress: poll IMAP mailboxes"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=POLL_TASK_NAME, defaults={"task": "channels_ingress.tasks.email_poll_all", "interval": interval, "enabled": True}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=POLL_TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("channels_ingress", "0002_outbox_sweep_schedule"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
