"""Give the managing roles the permissions of the models added after 0002 (templates, sources)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGING_ROLES = ["Knowledge managers", "Supervisors", "Administrators"]
ACTIONS = ("view", "add", "change", "delete")
CODENAMES = [f"{action}_{model}" for model in ("articletemplate", "knowledgesource") for action in ACTIONS]


def forwards(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label="knowledge", codename__in=CODENAMES))
    for name in MANAGING_ROLES:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)
    agents = Group.objects.filter(name="Agents").first()
    if agents:
        agents.permissions.add(*[p for p in permissions if p.codename == "view_articletemplate"])


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0008_sources_refresh_schedule")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
