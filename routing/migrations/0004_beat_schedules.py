"""Register routing's periodic tasks with django-celery-beat (schedules live in the database)."""

from django.db import migrations

INTERVALS = [
    ("routing: sweep", "routing.tasks.routing_sweep", 5, "seconds"),
    ("routing: retrain effort model", "routing.tasks.effort_model_train", 6, "hours"),
]


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period in INTERVALS:
        schedule, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.update_or_create(name=name, defaults={"task": task, "interval": schedule, "enabled": True})
    midnight, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.update_or_create(
        name="routing: end-of-day capacity reset",
        defaults={"task": "routing.tasks.capacity_end_of_day_reset", "crontab": midnight, "enabled": True},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__startswith="routing: ").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0003_builtin_presences"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
