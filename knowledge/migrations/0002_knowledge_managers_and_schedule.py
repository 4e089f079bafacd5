"""The "Knowledge managers" role, knowledge permissions for every role, and the
periodic job that publishes scheduled articles and expires old ones (J.126)."""

import json

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGERS = "Knowledge managers"
AUTHOR = {"article": ["view", "add", "change"], "articlefeedback": ["view", "add"], "articleusage": ["view", "add"]}
MANAGER = {
    "article": ["view", "add", "change", "delete"], "articlepassage": ["view"], "articlefeedback": ["view", "add"],
    "articleusage": ["view", "add"], "searchlog": ["view"], "knowledgedraft": ["view", "change"],
    "suggestionfeedback": ["view"],
}
TASK_NAME = "knowledge: publish scheduled and expire due articles"


def _perms(Permission, spec):
    codenames = [f"{action}_{model}" for model, actions in spec.items() for action in actions]
    return list(Permission.objects.filter(content_type__app_label="knowledge", codename__in=codenames))


def forwards(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    managers, _ = Group.objects.get_or_create(name=MANAGERS)
    managers.permissions.add(*_perms(Permission, MANAGER))
    for name, spec in (("Agents", AUTHOR), ("Supervisors", MANAGER), ("Administrators", MANAGER)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_perms(Permission, spec))

    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={"task": "knowledge.tasks.articles_lifecycle_sweep", "interval": every, "kwargs": json.dumps({})},
    )


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=MANAGERS).delete()
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0001_initial"),
        ("crm", "0003_roles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
