"""The three roles as groups, with the model permissions each needs."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AGENT = {
    "crm": {
        "account": ["view", "add", "change"],
        "contact": ["view", "add", "change"],
        "contactidentity": ["view", "add"],
        "case": ["view", "add", "change"],
        "conversation": ["view", "change"],
        "message": ["view", "add"],
        "activity": ["view", "add", "change"],
        "timelineevent": ["view"],
    },
    "routing": {"queue": ["view"]},
}
SUPERVISOR_EXTRA = {
    "crm": {"activity": ["delete"], "contactidentity": ["change", "delete"]},
    "routing": {"queue": ["add", "change"]},
    "contactcenter": {"user": ["view"]},
}
ADMIN_APPS = ["contactcenter", "crm", "routing", "auth", "django_celery_beat"]


def _perms(Permission, spec):
    found = []
    for app_label, models in spec.items():
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            found += Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    return found


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    agents, _ = Group.objects.get_or_create(name="Agents")
    agents.permissions.set(_perms(Permission, AGENT))
    supervisors, _ = Group.objects.get_or_create(name="Supervisors")
    supervisors.permissions.set(_perms(Permission, AGENT) + _perms(Permission, SUPERVISOR_EXTRA))
    administrators, _ = Group.objects.get_or_create(name="Administrators")
    administrators.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Agents", "Supervisors", "Administrators"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_case_number_sequence"),
        ("contactcenter", "0001_initial"),
        ("routing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
